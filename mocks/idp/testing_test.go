package idp

import (
	"net/http"
	"testing"
)

func TestNewClosesWithTheTestAndClientTrustsTheCA(t *testing.T) {
	var s *Server
	t.Run("inner", func(t *testing.T) {
		s = New(t, Config{Name: "tls", UseTLS: true})
		resp, err := s.Client().Get(s.Issuer() + "/.well-known/oauth-authorization-server")
		if err != nil {
			t.Fatalf("the IdP's own client does not trust its CA: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("metadata: %d", resp.StatusCode)
		}
		if _, err := http.Get(s.Issuer() + "/.well-known/oauth-authorization-server"); err == nil {
			t.Fatal("a default client trusted the IdP's private CA")
		}
	})
	if _, err := s.Client().Get(s.Issuer() + "/.well-known/oauth-authorization-server"); err == nil {
		t.Fatal("the IdP still answers after its test ended")
	}
}
