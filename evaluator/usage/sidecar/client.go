// Package sidecar is a client of a promoctl sidecar's usage routes
// (/v1/usage/…): it speaks the meter's wire types over HTTP and turns the
// sidecar's error codes back into the meter's errors, so that code written
// against meter.Client runs the same in-process or through a sidecar.
package sidecar

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
)

// Client calls one sidecar.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client of the sidecar at base (http://127.0.0.1:8787);
// token, when set, is sent as a bearer token. A nil httpClient is one with
// a 2 s timeout.
func New(base, token string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 2 * time.Second}
	}
	return &Client{base: strings.TrimSuffix(base, "/"), token: token, http: httpClient}
}

var _ meter.Client = (*Client)(nil)

// Consume posts a consume (check: dryRun).
func (c *Client) Consume(ctx context.Context, req meter.ConsumeRequest, dryRun bool) (meter.Answer, error) {
	path := "/v1/usage/consume"
	if dryRun {
		path, req.IdempotencyKey = "/v1/usage/check", ""
	}
	var a meter.Answer
	return a, c.do(ctx, http.MethodPost, path, req, &a)
}

// Release posts a release.
func (c *Client) Release(ctx context.Context, req meter.ReleaseRequest) (meter.ReleaseAnswer, error) {
	var a meter.ReleaseAnswer
	return a, c.do(ctx, http.MethodPost, "/v1/usage/release", req, &a)
}

// Usage reads a customer's usage of a feature at at (zero: now).
func (c *Client) Usage(ctx context.Context, q meter.Query, at time.Time) (meter.UsageAnswer, error) {
	params := url.Values{}
	if !at.IsZero() {
		params.Set("at", at.UTC().Format(time.RFC3339Nano))
	}
	if q.Plan != "" {
		params.Set("plan", q.Plan)
	}
	for k, v := range q.Attributes {
		params.Set("attr."+k, v)
	}
	path := "/v1/customers/" + url.PathEscape(q.Customer) + "/usage/" + url.PathEscape(q.Feature)
	if len(params) > 0 {
		path += "?" + params.Encode()
	}
	var a meter.UsageAnswer
	return a, c.do(ctx, http.MethodGet, path, nil, &a)
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", meter.ErrStoreUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%w: %w", meter.ErrStoreUnavailable, err)
	}
	if resp.StatusCode == http.StatusOK {
		return json.Unmarshal(raw, out)
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	return errorOf(resp.StatusCode, e.Error.Code, e.Error.Message)
}

// errorOf turns a sidecar's error answer into the meter's error.
func errorOf(status int, code, message string) error {
	var kind error
	switch code {
	case "INVALID_ARGUMENT", "UNKNOWN_PLAN":
		kind = meter.ErrInvalid
	case "FEATURE_NOT_FOUND":
		kind = evaluator.ErrFeatureNotFound
	case "IDEMPOTENCY_KEY_REUSED":
		kind = usage.ErrKeyReused
	case "USAGE_STORE_UNAVAILABLE", "NOT_READY":
		kind = meter.ErrStoreUnavailable
	case "USAGE_DISABLED":
		kind = meter.ErrDisabled
	default:
		kind = errors.New("sidecar error")
	}
	return fmt.Errorf("%w: sidecar answered %d %s: %s", kind, status, code, message)
}
