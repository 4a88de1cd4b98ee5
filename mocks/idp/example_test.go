package idp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/muster-test/muster-test/mocks/idp"
)

// An IdP on a loopback port, a client_credentials token from it, and the token's
// introspection, as a resource server under test would ask for it.
func Example() {
	s, err := idp.Start(context.Background(), idp.Config{Name: "corp", Scopes: []string{"mcp:read"},
		ClientID: "svc", ClientSecret: "s3cret"})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"mcp:read"}}
	req, _ := http.NewRequest(http.MethodPost, s.Issuer()+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc", "s3cret")
	resp, err := s.Client().Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("token endpoint:", resp.StatusCode)
	fmt.Println("tokens issued:", s.Counters().TokensIssued)
	// Output:
	// token endpoint: 200
	// tokens issued: 1
}
