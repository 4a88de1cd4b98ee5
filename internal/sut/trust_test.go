package sut

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/muster-test/muster-test/internal/mcpclient"
)

// TestCAFileTrust: a Direct SUT on https is reached by MCP sessions with its ca_file and
// refused without it, with an error that says to set ca_file; a ca_file that is missing or
// holds no certificate stops the start, naming the file.
func TestCAFileTrust(t *testing.T) {
	ts := httptest.NewTLSServer(server.NewStreamableHTTPServer(server.NewMCPServer("tls", "1")))
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	good := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(good, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := func(caFile string) (*Instance, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return Direct{}.Start(ctx, &Spec{Dir: dir, Direct: &DirectSpec{URL: ts.URL, CAFile: caFile}})
	}
	connect := func(inst *Instance) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := inst.Connect(ctx, mcpclient.Options{})
		if err == nil {
			s.Close()
		}
		return err
	}

	inst, err := start(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := connect(inst); err != nil {
		t.Errorf("session with the ca_file: %v", err)
	}

	inst, err = start("")
	if err != nil {
		t.Fatal(err)
	}
	err = connect(inst)
	var untrusted *UntrustedError
	if !errors.As(err, &untrusted) || !strings.Contains(err.Error(), "set ca_file in the scenario's sut block") {
		t.Errorf("session without the ca_file: %v, want an UntrustedError saying to set ca_file", err)
	}

	for file, want := range map[string]string{filepath.Join(dir, "nope.pem"): "nope.pem: no such file", notPEM: "bad.pem holds no PEM certificate"} {
		if _, err := start(file); err == nil || !strings.Contains(err.Error(), "sut.ca_file: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("ca_file %s: start error %v, want one naming the file (%q)", file, err, want)
		}
	}
}

// TestExplainingTransport: only an untrusted certificate gets the advice, and only once.
func TestExplainingTransport(t *testing.T) {
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(ts.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: ExplainingTransport{Next: ExplainingTransport{Next: tr}}}
	_, err := c.Get(ts.URL)
	if err == nil || strings.Count(err.Error(), "set ca_file") != 1 {
		t.Errorf("untrusted: %v, want the advice once", err)
	}
	_, err = c.Get("http://127.0.0.1:1/")
	if err == nil || strings.Contains(err.Error(), "ca_file") {
		t.Errorf("refused connection: %v, want an error without the advice", err)
	}
}
