package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeJSON writes v with the given status. Marshalling happens first so a
// failure can still become a proper 500.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"INTERNAL","message":"cannot encode the answer"}}`)
	}
	writeBody(w, status, body)
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte{'\n'})
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: message}})
}

// setETag sets a strong validator; revisions contain no quotes.
func setETag(w http.ResponseWriter, tag string) {
	w.Header().Set("ETag", `"`+tag+`"`)
}

// matchesETag reports whether an If-None-Match header names tag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func matchesETag(header, tag string) bool {
	if header == "" {
		return false
	}
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" {
			return true
		}
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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return fmt.Errorf("%w: more than %d bytes", errBodyTooLarge, limit)
		}
		return fmt.Errorf("read body: %w", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
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
