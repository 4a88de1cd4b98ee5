package idpcmd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUsageErrors(t *testing.T) {
	cases := map[string][]string{
		"unknown flag":      {"--nope"},
		"extra argument":    {"extra"},
		"port out of range": {"--port", "70000"},
		"missing file":      {"--config", "/nonexistent/idp.yaml"},
		"unknown key":       {"--config", writeConfig(t, "name: x\nbogus: 1\n")},
		"bad duration":      {"--config", writeConfig(t, "token_lifetime: soon\n")},
	}
	for name, args := range cases {
		var stderr bytes.Buffer
		if code := Run(context.Background(), args, io.Discard, &stderr); code != ExitUsage || stderr.Len() == 0 {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr.String())
		}
	}
}

func TestPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	var stderr bytes.Buffer
	if code := Run(context.Background(), []string{"--port", strconv.Itoa(port)}, io.Discard, &stderr); code != ExitStart {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestServesUntilCancelled runs the command as main does, reads the printed endpoints,
// uses them, then "signals" it through the context.
func TestServesUntilCancelled(t *testing.T) {
	cfg := writeConfig(t, "name: standalone\nuse_tls: true\nscopes: [openid, mcp:read]\ntoken_lifetime: 90s\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		code := Run(ctx, []string{"--port", "0", "--config", cfg}, pw, io.Discard)
		pw.Close()
		exit <- code
	}()

	lines := map[string]string{}
	var pem strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----BEGIN") || pem.Len() > 0 {
			pem.WriteString(line + "\n")
			if strings.HasPrefix(line, "-----END") {
				break
			}
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			lines[k] = strings.TrimSpace(v)
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if !strings.HasPrefix(lines["issuer"], "https://localhost:") || lines["token"] != lines["issuer"]+"/token" {
		t.Fatalf("printed = %v", lines)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(pem.String())) {
		t.Fatalf("no CA certificate printed")
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(lines["metadata"])
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if meta["issuer"] != lines["issuer"] {
		t.Errorf("metadata = %v", meta)
	}
	client.CloseIdleConnections()

	cancel()
	select {
	case code := <-exit:
		if code != ExitOK {
			t.Errorf("exit %d after cancel", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop after cancel")
	}
}
