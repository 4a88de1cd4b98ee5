package refsut

import (
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestDestructiveToolsBlockedWithoutYolo(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := []struct {
		tool    string
		yolo    bool
		blocked bool
	}{
		{"kubectl_delete", false, true},
		{"cleanup", false, true},
		{"kubectl_delete", true, false},
		{"kubectl_get", false, false},
		{"x_kubectl_delete", false, false}, // the upstream's own name is what counts
	}
	for _, c := range cases {
		err := (&Aggregator{yolo: c.yolo, log: quiet}).blocked(c.tool)
		if (err != nil) != c.blocked {
			t.Errorf("%s (yolo %v): %v, want blocked=%v", c.tool, c.yolo, err, c.blocked)
		}
		if err != nil && !strings.Contains(err.Error(), "tool '"+c.tool+"' is blocked as it is destructive. Use --yolo flag") {
			t.Errorf("message %q", err)
		}
	}
}
