// Command metered is a service that enforces a metered allowance: every
// request consumes one unit of a feature for the customer in X-Customer-Id
// (idempotently, under the request's X-Request-Id), and a request beyond
// the customer's allowance gets 429 with the time the allowance resets. It
// consumes through a promoctl sidecar, or directly against the sidecars'
// Redis with -redis (buckets from the config repo it watches).
//
//	go run ./examples/clients/go/metered -sidecar http://127.0.0.1:8787
//	go run ./examples/clients/go/metered -redis redis://127.0.0.1:6379 -repo examples/acme
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"math"
	"net/http"
	"os"
	"strconv"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/promoctl/promoctl/openfeature"
	"github.com/promoctl/promoctl/openfeature/reposource"
	"github.com/promoctl/promoctl/openfeature/usage"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	sidecar := flag.String("sidecar", "http://127.0.0.1:8787", "the promoctl sidecar to consume through")
	token := flag.String("token", os.Getenv("PROMOCTL_TOKEN"), "the sidecar's token, if it has one")
	redisURL := flag.String("redis", "", "consume directly against this Redis (the sidecars' store) instead of a sidecar")
	repo := flag.String("repo", "", "with -redis: the config repo to compute buckets from")
	feature := flag.String("feature", "api_calls", "the metered feature each request consumes")
	flag.Parse()

	client := usage.NewSidecar(*sidecar, *token)
	if *redisURL != "" {
		p := reposource.New(*repo, openfeature.Options{})
		if err := p.InitWithContext(context.Background(), of.EvaluationContext{}); err != nil {
			log.Fatal(err)
		}
		defer p.Shutdown()
		var err error
		if client, err = usage.NewRedis(*redisURL, p, usage.Options{}); err != nil {
			log.Fatal(err)
		}
	}
	defer client.Close()
	log.Printf("listening on %s", *addr)
	srv := &http.Server{Addr: *addr, Handler: Handler(client, *feature), ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// Handler serves GET /api/things: one unit of feature per request.
func Handler(client *usage.Client, feature string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/things", func(w http.ResponseWriter, r *http.Request) {
		customer := r.Header.Get("X-Customer-Id")
		if customer == "" {
			http.Error(w, "X-Customer-Id is required", http.StatusBadRequest)
			return
		}
		// A retried request carries the same X-Request-Id and is counted
		// once.
		key := r.Header.Get("X-Request-Id")
		if key == "" {
			key = newKey()
		}
		a, err := client.Consume(r.Context(), usage.Request{Customer: customer, Feature: feature, Amount: 1, IdempotencyKey: key})
		switch {
		case errors.Is(err, usage.ErrUnavailable):
			w.Header().Set("Retry-After", "1")
			http.Error(w, "usage cannot be checked right now", http.StatusServiceUnavailable)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("RateLimit-Remaining", strconv.FormatInt(a.Remaining, 10))
		if !a.Allowed {
			body := map[string]any{"error": "quota exceeded", "feature": feature, "resets_at": a.NextReset}
			if a.NextReset != nil {
				secs := int64(math.Ceil(time.Until(*a.NextReset).Seconds()))
				w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
			}
			w.WriteHeader(http.StatusTooManyRequests)
			_ = json.NewEncoder(w).Encode(body)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"things": []string{"a", "b"}, "remaining": a.Remaining, "resets_at": a.NextReset})
	})
	return mux
}

func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
