package testtools

import (
	"testing"
	"time"
)

func TestDurationArg(t *testing.T) {
	tests := []struct {
		name    string
		args    map[string]any
		want    time.Duration
		wantErr bool
	}{
		{"absent", map[string]any{}, 0, false},
		{"int seconds", map[string]any{"d": 3600}, time.Hour, false},
		{"float seconds", map[string]any{"d": 1.5}, 1500 * time.Millisecond, false},
		{"numeric string", map[string]any{"d": "90"}, 90 * time.Second, false},
		{"duration string", map[string]any{"d": "15m"}, 15 * time.Minute, false},
		{"negative int", map[string]any{"d": -5}, -5 * time.Second, false},
		{"garbage string", map[string]any{"d": "soon"}, 0, true},
		{"wrong type", map[string]any{"d": true}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := durationArg(tc.args, "d")
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("durationArg(%v) = %v, %v; want %v, error %v", tc.args, got, err, tc.want, tc.wantErr)
			}
		})
	}
}
