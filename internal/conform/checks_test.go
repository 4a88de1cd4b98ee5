package conform

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// prmServer is a server at /mcp that refuses every request with a Bearer challenge naming
// its protected resource metadata, which is prm with the resource filled in.
func prmServer(t *testing.T, prm map[string]any) string {
	var url string
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/oauth-protected-resource") {
			doc := map[string]any{"resource": url, "authorization_servers": []string{"http://127.0.0.1:1"}}
			for k, v := range prm {
				doc[k] = v
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(doc)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="http://`+r.Host+`/.well-known/oauth-protected-resource/mcp"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	url = srv.URL + "/mcp"
	return url
}

// TestBearerMethodsJudgedAsTheField: prm-bearer-methods-header-only reads
// bearer_methods_supported as the JSON array it is: "query" elsewhere in the document (a
// scope named query, a name) is no offer, "query" in the array is.
func TestBearerMethodsJudgedAsTheField(t *testing.T) {
	for _, c := range []struct {
		name string
		prm  map[string]any
		want Verdict
	}{
		{"header only, query elsewhere", map[string]any{"bearer_methods_supported": []string{"header"},
			"scopes_supported": []string{"query"}, "resource_name": "query"}, Pass},
		{"absent", map[string]any{"resource_name": "query"}, Pass},
		{"query offered", map[string]any{"bearer_methods_supported": []string{"header", "query"}}, Fail},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, _, out := conformRun(t, Options{URL: prmServer(t, c.prm), Checks: []string{"prm-bearer-methods-header-only"}})
			if res == nil || res.Outcomes[0].Verdict != c.want {
				t.Fatalf("want %s:\n%s", c.want, out)
			}
		})
	}
}
