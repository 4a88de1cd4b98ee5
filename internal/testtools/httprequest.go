package testtools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/muster-test/muster-test/internal/executor"
)

// httpBodyMax bounds the body test_http_request reads.
const httpBodyMax = 1 << 20

// httpRequest sends one raw HTTP request to the SUT (path) or to any loopback URL, with the
// current user's token, a given one, a minted one or none, and answers what came back.
func httpRequest(ctx context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, err := worldOf(run)
	if err != nil {
		return nil, err
	}
	target, err := w.requestURL(executor.StringArg(args, "path"), executor.StringArg(args, "url"))
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(executor.StringArg(args, "method"))
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	contentType := ""
	switch b := args["body"].(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		body, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if h, ok := args["headers"].(map[string]any); ok {
		for k, v := range h {
			req.Header.Set(k, fmt.Sprint(v))
		}
	}
	if tok := w.bearerFor(run, args); tok != "" && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := w.agent.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, httpBodyMax+1))
	if err != nil {
		return nil, fmt.Errorf("read the answer to %s %s: %w", method, target, err)
	}
	out := map[string]any{"success": resp.StatusCode < 400, "status_code": resp.StatusCode, "url": target,
		"headers": flatHeaders(resp.Header)}
	if len(raw) > httpBodyMax {
		raw = raw[:httpBodyMax]
		out["body_truncated"] = true
	}
	var decoded any
	if strings.Contains(resp.Header.Get("Content-Type"), "json") && json.Unmarshal(raw, &decoded) == nil {
		out["body"] = decoded
	} else {
		out["body"] = string(raw)
	}
	if c := resp.Header.Get("WWW-Authenticate"); c != "" {
		out["www_authenticate"] = c
	}
	return out, nil
}

// requestURL is the absolute URL of a request: path against the SUT's origin, or url,
// which must point at this machine (the runner sends nothing off loopback).
func (w *World) requestURL(path, rawURL string) (string, error) {
	switch {
	case (path == "") == (rawURL == ""):
		return "", fmt.Errorf("give exactly one of \"path\" (on the SUT) or \"url\"")
	case path != "":
		if !strings.HasPrefix(path, "/") {
			return "", fmt.Errorf("path %q must start with /", path)
		}
		return w.SUT.PublicURL + path, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("url %q is not an http(s) URL", rawURL)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("url %q: muster-test sends requests to loopback addresses only", rawURL)
	}
	return rawURL, nil
}

// flatHeaders lists response headers by their canonical names, repeated values joined
// with ", ".
func flatHeaders(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out[k] = strings.Join(h[k], ", ")
	}
	return out
}
