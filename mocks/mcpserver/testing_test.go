package mcpserver

import (
	"net/http"
	"testing"
)

func TestNewClosesWithTheTest(t *testing.T) {
	var s *Server
	t.Run("inner", func(t *testing.T) {
		s = New(t, Config{Tools: []ToolConfig{{Name: "op"}}})
		if got := s.Tools(); len(got) != 1 || got[0] != "op" {
			t.Fatalf("tools %v", got)
		}
	})
	if resp, err := http.Get(s.URL()); err == nil {
		resp.Body.Close()
		t.Fatal("the mock still answers after its test ended")
	}
}
