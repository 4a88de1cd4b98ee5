package env

import (
	"net/http"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/traffic"
)

// Record keeps the scenario's traffic in l from now on: the runner's clients that the
// environment hands out (the SUT's sessions, the browser of the test tools) record into
// it, and requests to the mocks' addresses are named after the mocks.
func (e *Env) Record(l *traffic.Log) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.Traffic = l
	for name, s := range e.idps {
		l.Name(s.Issuer(), traffic.IdPParty(name))
	}
	for name, s := range e.servers {
		if s.HTTP != nil {
			l.Name(s.HTTP.URL(), traffic.MCPParty(name))
		}
	}
}

// AddMockTraffic adds what the mocks answered to others than the runner (the SUT) to the
// traffic log. Call it once, after the SUT has stopped and before Close.
func (e *Env) AddMockTraffic() {
	if e.Traffic == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for name, s := range e.idps {
		e.Traffic.AddIdP(traffic.IdPParty(name), s.Requests())
	}
	for name, s := range e.servers {
		if s.HTTP != nil {
			e.Traffic.AddMCP(traffic.MCPParty(name), s.HTTP.Requests())
		}
	}
}

// sessionRecorder is the sut.Spec's Record: the runner's sessions to the SUT.
func (e *Env) sessionRecorder() func(http.RoundTripper) http.RoundTripper {
	if e.Traffic == nil {
		return nil
	}
	return func(rt http.RoundTripper) http.RoundTripper { return e.Traffic.Transport(rt, event.PartyRunner) }
}
