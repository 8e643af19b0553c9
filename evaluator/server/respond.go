package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/promoctl/promoctl/evaluator"
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
}

// writeJSON writes v with the given status. Marshalling happens first so a
// failure can still become a proper 500.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := answerBuffers.Get().(*[]byte)
	var (
		body []byte
		err  error
	)
	if a, ok := v.(jsonAppender); ok {
		// Answers that write their own JSON skip encoding/json's
		// reflection and the validation of what MarshalJSON returns.
		body = append(a.AppendJSON((*buf)[:0]), '\n')
	} else {
		body, err = appendJSON((*buf)[:0], v)
	}
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"INTERNAL","message":"cannot encode the answer"}}` + "\n")
	}
	writeBody(w, status, body)
	recycle(buf, body)
}

// jsonAppender is an answer that writes its own compact, valid JSON
// (decisions, consume answers).
type jsonAppender interface{ AppendJSON([]byte) []byte }

// Header values shared by every answer. Assigning them to the header map
// under their canonical keys skips Header.Set's canonicalisation and the
// slice it allocates; net/http copies header values before writing, and
// appending to a full slice copies it, so sharing them is safe.
var (
	jsonContentType = []string{"application/json"}
	noStore         = []string{"no-store"}
)

// writeBody writes body, which ends with its newline. Content-Length is
// set because an answer larger than net/http's 2 KiB response buffer would
// otherwise be sent chunked.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	h["Content-Length"] = contentLength(len(body))
	w.WriteHeader(status)
	_, _ = w.Write(body) // #nosec G705 -- a JSON answer served as application/json, never HTML
}

// contentLengths holds the Content-Length header values of answers below
// 8 KiB, each made once and shared like the values above: formatting the
// length and the slice around it were two allocations per answer.
var contentLengths [8 << 10]atomic.Pointer[[]string]

func contentLength(n int) []string {
	if n < 0 || n >= len(contentLengths) {
		return []string{strconv.Itoa(n)}
	}
	if v := contentLengths[n].Load(); v != nil {
		return *v
	}
	v := []string{strconv.Itoa(n)}
	contentLengths[n].Store(&v)
	return v
}

// marshalJSON is json.Marshal without HTML escaping: answers are read by
// programs and people, not embedded in HTML, so a name such as
// "Lindqvist & Daughters" stays as written instead of "\u0026".
func marshalJSON(v any) ([]byte, error) {
	body, err := appendJSON(nil, v)
	return bytes.TrimSuffix(body, newline), err
}

// appendJSON appends v's JSON, without HTML escaping, and a newline to dst.
func appendJSON(dst []byte, v any) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var newline = []byte{'\n'}

// answerBuffers recycles the buffers decisions are encoded into: the
// single-decision route is the sidecar's hot path, and a fresh 2–4 KiB
// buffer per request showed in its profile as garbage-collection work.
var answerBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 4096)
	return &b
}}

// maxPooledBuffer keeps the rare huge answer from pinning memory in the
// pool.
const maxPooledBuffer = 64 << 10

// writeDecision writes one decision with its ETag, encoded by the
// decision's own AppendJSON (it writes valid, compact JSON, so the answer
// needs none of encoding/json's validation and compaction).
func writeDecision(w http.ResponseWriter, etag []string, d evaluator.Decision) {
	buf := answerBuffers.Get().(*[]byte)
	body := append(d.AppendJSON((*buf)[:0]), '\n')
	w.Header()["Etag"] = etag
	writeBody(w, http.StatusOK, body)
	recycle(buf, body)
}

// recycle returns a buffer from answerBuffers, now grown to body, to the
// pool, unless it grew too large to keep.
func recycle(buf *[]byte, body []byte) {
	if cap(body) <= maxPooledBuffer {
		*buf = body[:0]
		answerBuffers.Put(buf)
	}
}

func writeError(w http.ResponseWriter, status int, code ErrorCode, message string) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: message}})
}

// setETag sets a strong validator; revisions contain no quotes.
func setETag(w http.ResponseWriter, tag string) {
	w.Header().Set("ETag", `"`+tag+`"`)
}

// etagOf is the ETag header of a revision, built once per revision rather
// than once per answer.
type etagOf struct {
	revision string
	header   []string
}

func (s *Server) etag(revision string) []string {
	if e := s.etags.Load(); e != nil && e.revision == revision {
		return e.header
	}
	e := &etagOf{revision: revision, header: []string{`"` + revision + `"`}}
	s.etags.Store(e)
	return e.header
}

// matchesETag reports whether an If-None-Match header names tag (weak
// comparison, as RFC 9110 asks for If-None-Match). `*` never matches: it
// means "any current representation" to a server storing resources, but a
// bulk evaluation is computed for each request, and a client that has no
// answer yet must get one rather than a 304 with nothing to reuse.
func matchesETag(header, tag string) bool {
	if header == "" {
		return false
	}
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimSpace(candidate)
		candidate = strings.TrimPrefix(candidate, "W/")
		if strings.Trim(candidate, `"`) == tag {
			return true
		}
	}
	return false
}

// errBodyTooLarge is reported as 413.
var errBodyTooLarge = errors.New("request body too large")

// decodeBody reads a JSON body of at most limit bytes into v. An empty body
// leaves v untouched.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any, strict bool) error {
	buf := bodyBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			bodyBuffers.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return fmt.Errorf("%w: more than %d bytes", errBodyTooLarge, limit)
		}
		return fmt.Errorf("read body: %w", err)
	}
	if len(bytes.TrimSpace(buf.Bytes())) == 0 {
		return nil
	}
	// The decoder copies what it keeps (strings, raw messages), so the
	// buffer can serve the next request.
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body is not valid JSON for this route: %w", err)
	}
	if dec.More() {
		return errors.New("body holds more than one JSON value")
	}
	return nil
}

// bodyBuffers recycles the buffers request bodies are read into.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
