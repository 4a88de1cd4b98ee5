package testtools

import (
	"strings"
	"testing"
)

func TestTrimPage(t *testing.T) {
	long := strings.Repeat("word ", 200)
	tests := []struct {
		name, page, want string
	}{
		{"tags dropped and space folded", "<h1>Authentication\n  Failed</h1>\n<p class=\"message\">Try again.</p>",
			"Authentication Failed Try again."},
		{"style and script content dropped",
			"<html><head><title>T</title><style>body{margin:3em}</style><SCRIPT type=\"x\">alert(1)</SCRIPT></head><body>ok</body></html>",
			"T ok"},
		{"plain text kept", "Invalid callback: missing required parameters", "Invalid callback: missing required parameters"},
		{"cut after 500 bytes", long, strings.TrimSpace(long)[:500] + "..."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := trimPage(tc.page); got != tc.want {
				t.Errorf("trimPage(%q)\n got %q\nwant %q", tc.page, got, tc.want)
			}
		})
	}
}
