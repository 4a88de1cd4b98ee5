package hostguard_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/muster-test/muster-test/mocks/hostguard"
)

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost:8080": true, "127.0.0.1": true, "127.0.0.1:1": true, "127.9.9.9:1": true,
		"::1": true, "[::1]": true, "[::1]:8080": true,
		"": false, "example.com": false, "example.com:80": false, "localhost.example.com": false,
		"10.0.0.1:80": false, "0.0.0.0:80": false, "[::]:80": false, "[2001:db8::1]:80": false, "127.0.0.1.nip.io": false,
	} {
		if got := hostguard.IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestHandler(t *testing.T) {
	reached := 0
	srv := httptest.NewServer(hostguard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
	})))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	cases := map[string]int{
		"localhost" + port: 200, "127.0.0.1" + port: 200, "[::1]" + port: 200,
		"evil.example" + port: 403, "evil.example": 403, "192.168.1.1" + port: 403,
	}
	for host, want := range cases {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Host = host
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: status %d, want %d", host, resp.StatusCode, want)
		}
	}
	if reached != 3 {
		t.Errorf("the wrapped handler ran %d times, want 3 (loopback hosts only)", reached)
	}
}
