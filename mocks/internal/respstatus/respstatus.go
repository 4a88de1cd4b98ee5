// Package respstatus remembers the status of an HTTP answer, for the mocks' request logs.
package respstatus

import "net/http"

// Writer passes an answer through and keeps its status (200 when the handler wrote or
// flushed without setting one). It flushes, for event streams, and unwraps for
// http.ResponseController.
type Writer struct {
	http.ResponseWriter
	Status int
}

func (w *Writer) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *Writer) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *Writer) Flush() {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
