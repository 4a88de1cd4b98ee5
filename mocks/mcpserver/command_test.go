package mcpserver

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestParseCommandArgs(t *testing.T) {
	cases := []struct {
		args      []string
		file      string
		debug     bool
		wantError string
	}{
		{args: []string{"test", "--mock-mcp-server", "--mock-config", "f.yaml"}, file: "f.yaml"},
		{args: []string{"--mock-mcp-server", "--mock-config=g.yaml", "--debug"}, file: "g.yaml", debug: true},
		{args: []string{"--mock-config", "h.yaml", "--mock-mcp-server"}, file: "h.yaml"},
		{args: []string{"--mock-mcp-server"}, wantError: "--mock-config FILE is required"},
		{args: []string{"--mock-mcp-server", "--mock-config"}, wantError: "needs a file"},
		{args: []string{"--mock-mcp-server", "--mock-config", "f", "--port", "1"}, wantError: `unexpected argument "--port"`},
		{args: []string{"--mock-mcp-server", "test", "--mock-config", "f"}, wantError: `unexpected argument "test"`},
	}
	for _, tc := range cases {
		file, debug, err := parseCommandArgs(tc.args)
		if tc.wantError != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantError) {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.wantError)
			}
			continue
		}
		if err != nil || file != tc.file || debug != tc.debug {
			t.Errorf("%v: got %q %v %v", tc.args, file, debug, err)
		}
	}
}

func TestRunCommandExitCodes(t *testing.T) {
	var stderr bytes.Buffer
	if code := RunCommand(context.Background(), []string{"--mock-mcp-server"}, strings.NewReader(""), &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage") {
		t.Errorf("usage error: code %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := RunCommand(context.Background(), []string{"--mock-config", "/nonexistent/x.yaml"}, strings.NewReader(""), &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), "x.yaml") {
		t.Errorf("missing file: code %d, stderr %q", code, stderr.String())
	}
}
