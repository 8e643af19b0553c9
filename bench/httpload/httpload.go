// Package httpload is the benchmarks' HTTP load generator: one keep-alive
// HTTP/1.1 connection per simulated client, one request in flight on each,
// requests written from bytes formatted in place and answers read with a
// minimal parser that needs a Content-Length. It does what wrk or hey do
// for a server benchmark: on a machine whose cores the servers under test
// share with the load, Go's net/http client spends about as much CPU per
// request as the server it measures, and that CPU is taken from the
// server. It speaks only the subset of HTTP/1.1 that promoctl serve
// answers with, and reports anything else as an error.
package httpload

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
)

// Conn is one client's connection.
type Conn struct {
	host string
	conn net.Conn
	r    *bufio.Reader
	req  []byte
}

// Dial connects to host (host:port).
func Dial(host string) (*Conn, error) {
	c, err := net.Dial("tcp", host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", host, err)
	}
	return &Conn{host: host, conn: c, r: bufio.NewReaderSize(c, 4096)}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.conn.Close() }

// Post sends body as a JSON POST to path, reads the whole answer and returns
// its status. The connection stays open for the next request.
func (c *Conn) Post(path string, body []byte) (int, error) {
	c.req = append(c.req[:0], "POST "...)
	c.req = append(c.req, path...)
	c.req = append(c.req, " HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, c.host...)
	c.req = append(c.req, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	c.req = strconv.AppendInt(c.req, int64(len(body)), 10)
	c.req = append(c.req, "\r\n\r\n"...)
	c.req = append(c.req, body...)
	if _, err := c.conn.Write(c.req); err != nil {
		return 0, fmt.Errorf("write request: %w", err)
	}
	return c.readAnswer()
}

var (
	errNoLength = errors.New("answer without Content-Length (chunked or close-delimited answers are not read)")
	errClosed   = errors.New("the server closes the connection")
)

func (c *Conn) readAnswer() (int, error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, fmt.Errorf("read status line: %w", err)
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("not an HTTP/1.1 status line: %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("status line %q: %w", line, err)
	}
	length, closing := -1, false
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, fmt.Errorf("read header: %w", err)
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, fmt.Errorf("header line %q", h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, fmt.Errorf("Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			closing = true
		}
	}
	if length < 0 {
		return 0, errNoLength
	}
	if _, err := c.r.Discard(length); err != nil {
		return 0, fmt.Errorf("read body: %w", err)
	}
	if closing {
		return status, errClosed
	}
	return status, nil
}
