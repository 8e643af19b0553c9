package httpload_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/bench/httpload"
)

// server answers /echo with the request body (answers of several lengths,
// each with its Content-Length),
// /missing with 404, /stream chunked and /close with Connection: close;
// it counts the connections it accepted.
func server(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/echo":
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			_, _ = w.Write(body) // net/http sets Content-Length for a short answer
		case "/missing":
			http.NotFound(w, r)
		case "/stream":
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte("chunked"))
		case "/close":
			w.Header().Set("Connection", "close")
			w.Header().Set("Content-Length", "2")
			_, _ = w.Write([]byte("ok"))
		}
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, &conns
}

func dial(t *testing.T, ts *httptest.Server) *httpload.Conn {
	t.Helper()
	c, err := httpload.Dial(strings.TrimPrefix(ts.URL, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestPostReadsWholeAnswersOnOneConnection(t *testing.T) {
	ts, conns := server(t)
	c := dial(t, ts)
	for _, body := range []string{`{"a":1}`, `{"bb":22}`, `{}`, `{"ccc":333}`} {
		status, err := c.Post("/echo", []byte(body))
		require.NoError(t, err, "body %s", body)
		assert.Equal(t, http.StatusOK, status)
	}
	status, err := c.Post("/missing", []byte(`{}`))
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, status, "a status other than 200 is returned, not hidden")
	status, err = c.Post("/echo", []byte(`{"after":"404"}`))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "the 404's body was read whole")
	assert.Equal(t, int32(1), conns.Load(), "every request used the one keep-alive connection")
}

func TestPostRefusesWhatItCannotRead(t *testing.T) {
	for path, want := range map[string]string{
		"/stream": "without Content-Length",
		"/close":  "closes the connection",
	} {
		t.Run(path, func(t *testing.T) {
			ts, _ := server(t)
			_, err := dial(t, ts).Post(path, []byte(`{}`))
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
		})
	}
}
