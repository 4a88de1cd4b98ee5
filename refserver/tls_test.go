package refserver_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refserver/mountidp"
)

// TestSelfSignedTLS: with SelfSignedTLS the server, its metadata and its mounted
// authorization server are on https, signed by the CA it wrote to WriteCA; a client that
// trusts that CA gets in, one that does not is refused by the TLS handshake.
func TestSelfSignedTLS(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	s, err := mountidp.Start(refserver.Config{SelfSignedTLS: true, WriteCA: caFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	written, err := os.ReadFile(caFile)
	if err != nil || !bytes.Equal(written, s.CACertPEM()) || len(written) == 0 {
		t.Fatalf("CA file %q (%v), want the server's CA", written, err)
	}
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") || s.Issuer() != s.Origin() {
		t.Fatalf("URL %s, issuer %s: want https, the issuer being the origin", s.URL(), s.Issuer())
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(written)
	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(trusting.CloseIdleConnections)

	resp, err := trusting.Get(s.PRMURL())
	if err != nil {
		t.Fatal(err)
	}
	var prm struct {
		Resource string   `json:"resource"`
		AS       []string `json:"authorization_servers"`
	}
	err = json.NewDecoder(resp.Body).Decode(&prm)
	resp.Body.Close()
	if err != nil || prm.Resource != s.URL() || len(prm.AS) != 1 || prm.AS[0] != s.Origin() {
		t.Errorf("PRM %+v (%v), want resource %s and authorization server %s", prm, err, s.URL(), s.Origin())
	}

	tok, err := mountidp.IdP(s).IssueToken(context.Background(), idp.IssueOptions{Subject: "alice", Scopes: []string{"tools:call"}, Audience: []string{s.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transport.NewStreamableHTTP(s.URL(), transport.WithHTTPBasicClient(trusting),
		transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + tok.AccessToken}))
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
		t.Fatalf("MCP over https with the CA trusted: %v", err)
	}
	if text, isErr, err := call(c, "echo", map[string]any{"message": "tls"}); err != nil || isErr || !strings.Contains(text, "tls") {
		t.Errorf("echo over https = %q, %v, %v", text, isErr, err)
	}

	plain := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(plain.CloseIdleConnections)
	_, err = plain.Get(s.PRMURL())
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("a client without the CA: %v, want x509.UnknownAuthorityError", err)
	}
}

// TestAuditRecordsProtocol: each audited call records the protocol revision it was sent
// with, so a test can see which wire a client spoke.
func TestAuditRecordsProtocol(t *testing.T) {
	e := start(t)
	tok := e.alice(t)
	for _, version := range []string{mcp.ProtocolVersion20260728, mcp.ProtocolVersion20251125, mcp.ProtocolVersion20250618} {
		tr, err := transport.NewStreamableHTTP(e.s.URL(), transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + tok}))
		if err != nil {
			t.Fatal(err)
		}
		c := client.NewClient(tr, client.WithProtocolVersion(version))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, _, err := call(c, "echo", map[string]any{"message": version}); err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	}
	recs := e.auditRecords(t)
	var got []string
	for _, r := range recs {
		got = append(got, r.Protocol)
	}
	if strings.Join(got, " ") != "2026-07-28 2025-11-25 2025-06-18" {
		t.Errorf("audited protocols %q, want one call on each revision in order", got)
	}
}
