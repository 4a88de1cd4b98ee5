package traffic

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// TestTransportRecords: a request through Transport is recorded with its party, detail,
// shortened bearer and secrets, and reaches the server whole and marked as the runner's.
func TestTransportRecords(t *testing.T) {
	var gotBody, gotAgent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody, gotAgent = string(b), r.UserAgent()
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	l := New()
	l.Name(srv.URL+"/mcp", event.PartySUT)
	c := &http.Client{Transport: l.Transport(http.DefaultTransport, event.PartyRunner)}
	body := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"x_search_find"}}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp?code=secretcode123&x=1", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer ory_at_abcdefghijklmnopqrstuvwxyz")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if gotBody != body || !IsRunner(gotAgent) {
		t.Errorf("server got body %q, agent %q", gotBody, gotAgent)
	}
	if req.Header.Get("User-Agent") != "" {
		t.Error("the caller's request was changed")
	}
	ex, dropped := l.Exchanges()
	if len(ex) != 1 || dropped != 0 {
		t.Fatalf("exchanges %+v, dropped %d", ex, dropped)
	}
	e := ex[0]
	if e.From != event.PartyRunner || e.To != event.PartySUT || e.Method != "POST" || e.Status != 401 ||
		e.Detail != "tools/call x_search_find" || e.Bearer != "ory_at_abc…" || e.Time.IsZero() {
		t.Errorf("recorded %+v", e)
	}
	if strings.Contains(e.Path, "secretcode123") || !strings.HasPrefix(e.Path, "/mcp?") {
		t.Errorf("path %q: the code is not shortened", e.Path)
	}

	form := "grant_type=refresh_token&refresh_token=abc"
	if _, err := c.Post(srv.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader(form)); err != nil {
		t.Fatal(err)
	}
	if gotBody != form {
		t.Errorf("form reached the server as %q", gotBody)
	}
	if ex, _ = l.Exchanges(); ex[1].Detail != "grant=refresh_token" {
		t.Errorf("token request recorded as %+v", ex[1])
	}
}

// TestTransportKeepsTheCallersAgent: a User-Agent the test chose is what it tests.
func TestTransportKeepsTheCallersAgent(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.UserAgent() }))
	defer srv.Close()
	c := &http.Client{Transport: New().Transport(http.DefaultTransport, event.PartyRunner)}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("User-Agent", "curl/8")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got != "curl/8" {
		t.Errorf("agent %q", got)
	}
}

// TestNilLogRecordsNothing: load runs pass no log; their transports are left alone.
func TestNilLogRecordsNothing(t *testing.T) {
	var l *Log
	if l.Transport(http.DefaultTransport, event.PartyRunner) != http.DefaultTransport {
		t.Error("a nil log wrapped the transport")
	}
	l.Add(event.Exchange{})
	l.Name("http://127.0.0.1:1", "x")
	if ex, _ := l.Exchanges(); ex != nil {
		t.Error(ex)
	}
}

// TestMockLogsLeaveOutTheRunner: what the runner sent is recorded once, by the runner.
func TestMockLogsLeaveOutTheRunner(t *testing.T) {
	now := time.Now()
	l := New()
	l.AddIdP("idp:main", []idp.Request{
		{Time: now, Method: "POST", Path: "/token", Grant: "refresh_token", Subject: "alice", Status: 200, UserAgent: "Go-http-client/1.1"},
		{Time: now, Method: "GET", Path: "/authorize", Status: 303, UserAgent: agentPrefix + event.PartyBrowser},
	})
	l.AddMCP("mcp:search", []mcpserver.Request{
		{Time: now.Add(time.Millisecond), Method: "POST", Path: "/mcp", RPCMethod: "tools/call", Tool: "find",
			Bearer: "ory_at_0123456789abcdef", Status: 401},
		{Time: now, Method: "POST", Path: "/mcp", RPCMethod: "tools/call", Tool: "find", UserAgent: agentPrefix + event.PartyRunner},
	})
	ex, _ := l.Exchanges()
	if len(ex) != 2 {
		t.Fatalf("exchanges %+v", ex)
	}
	if e := ex[0]; e.From != event.PartySUT || e.To != "idp:main" || e.Detail != "grant=refresh_token sub=alice" {
		t.Errorf("IdP request %+v", e)
	}
	if e := ex[1]; e.To != "mcp:search" || e.Detail != "tools/call find" || e.Bearer != "ory_at_012…" || e.Status != 401 {
		t.Errorf("mock request %+v", e)
	}
}

// TestAttribute: a request belongs to the step running when it started; to the group when
// several of its steps were; to none before the first step and after the last.
func TestAttribute(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	steps := []event.StepResult{
		{ID: "login", Start: at(10), Duration: 10 * time.Millisecond},
		{Line: 14, Start: at(30), Duration: 5 * time.Millisecond},
		{ID: "g", Tool: event.GroupTool, Start: at(40), Duration: 20 * time.Millisecond},
		{ID: "alice", Group: "g", Start: at(40), Duration: 20 * time.Millisecond},
		{ID: "bob", Group: "g", Start: at(41), Duration: 5 * time.Millisecond},
		{ID: "never", Status: event.NotRun},
	}
	ex := []event.Exchange{{Time: at(0)}, {Time: at(15)}, {Time: at(32)}, {Time: at(42)}, {Time: at(50)}, {Time: at(90)}}
	Attribute(ex, steps)
	want := []string{"", "login", "line 14", "g", "alice", ""}
	for i, e := range ex {
		if e.Step != want[i] {
			t.Errorf("request %d tied to %q, want %q", i, e.Step, want[i])
		}
	}
}
