package refsut

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The server name on the success page comes from the callback's state, which anyone can
// forge: it must reach the page as text, never as markup.
func TestPagesEscapeTheirText(t *testing.T) {
	for _, p := range []page{successPage, failurePage} {
		rec := httptest.NewRecorder()
		writePage(rec, http.StatusOK, p, `<script>alert("x")</script> & 'q'`)
		body := rec.Body.String()
		if strings.Contains(body, "<script>") || strings.Contains(body, "{{") {
			t.Errorf("text not escaped or slot left:\n%s", body)
		}
		if !strings.Contains(body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;`) {
			t.Errorf("escaped text missing:\n%s", body)
		}
	}
}
