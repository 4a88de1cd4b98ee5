package oauthclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxDocument caps every document and response body the client reads: a server that
// sends more gets a clear error, not a client that runs out of memory.
const maxDocument = 1 << 20

// ErrTooLarge is wrapped by errors for bodies above the 1 MiB cap.
var ErrTooLarge = errors.New("larger than 1 MiB")

// Document is a metadata document as received: the URL it came from, the HTTP status, the
// body as text, and the body parsed as a JSON object when it is one.
type Document struct {
	URL         string         `json:"url"`
	Status      int            `json:"status"`
	ContentType string         `json:"content_type,omitempty"`
	Raw         string         `json:"raw"`
	JSON        map[string]any `json:"document,omitempty"`
}

// jsonContentType reports whether the document was served as JSON, as RFC 8414 and
// RFC 9728 require.
func (d *Document) jsonContentType() bool {
	mt, _, _ := mime.ParseMediaType(d.ContentType)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// readCapped reads a body up to the cap; more is an error wrapping ErrTooLarge.
func readCapped(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxDocument+1))
	if err != nil {
		return b, err
	}
	if len(b) > maxDocument {
		return b[:maxDocument], fmt.Errorf("body is %w", ErrTooLarge)
	}
	return b, nil
}

// getDocument fetches a JSON metadata document. It returns the document even when the
// status is not 200 or the body is not JSON (so both can be shown); err says why it is not
// usable.
func (c *Client) getDocument(ctx context.Context, phase, u string) (*Document, error) {
	req, err := http.NewRequestWithContext(withPhase(ctx, phase), http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := readCapped(resp.Body)
	doc := &Document{URL: u, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Raw: string(body)}
	if err != nil {
		return doc, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return doc, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	if err := decodeObject(body, &doc.JSON); err != nil {
		return doc, fmt.Errorf("GET %s: %w", u, err)
	}
	return doc, nil
}

// decodeObject decodes a JSON object, refusing trailing data.
func decodeObject(body []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() {
		return errors.New("not a JSON object: data after the object")
	}
	return nil
}

// decodeInto reads a parsed document into a typed struct; a field of the wrong type is
// an error naming it.
func decodeInto(doc *Document, into any) error {
	if err := json.Unmarshal([]byte(doc.Raw), into); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("field %q: %s where %s was expected", te.Field, te.Value, te.Type)
		}
		return err
	}
	return nil
}
