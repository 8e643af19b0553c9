// Package gate is the HTTP service both Go client examples run: it asks an
// OpenFeature client — whichever provider stands behind it — whether the
// customer in X-Customer-Id may use a feature, and how much.
package gate

import (
	"encoding/json"
	"net/http"

	"github.com/open-feature/go-sdk/openfeature"
)

// Handler serves:
//
//	GET /settings/sso        200 when the customer has sso, else 403
//	GET /quota/{feature}     {"customer","feature","allowance","reason","variant","error"}
//
// It fails closed: when the provider cannot answer (unknown feature, not
// ready, sidecar down) the defaults — no access, allowance 0 — win.
func Handler(client *openfeature.Client) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /settings/sso", func(w http.ResponseWriter, r *http.Request) {
		evalCtx := openfeature.NewEvaluationContext(r.Header.Get("X-Customer-Id"), nil)
		if ok, _ := client.BooleanValue(r.Context(), "sso", false, evalCtx); !ok {
			http.Error(w, "sso is not included in your plan", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte("sso settings\n"))
	})
	mux.HandleFunc("GET /quota/{feature}", func(w http.ResponseWriter, r *http.Request) {
		customer := r.Header.Get("X-Customer-Id")
		attrs := map[string]any{}
		if plan := r.URL.Query().Get("plan"); plan != "" {
			attrs["plan"] = plan
		}
		d, _ := client.IntValueDetails(r.Context(), r.PathValue("feature"), 0, openfeature.NewEvaluationContext(customer, attrs))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Quota{
			Customer: customer, Feature: d.FlagKey, Allowance: d.Value,
			Reason: string(d.Reason), Variant: d.Variant, Error: string(d.ErrorCode),
		})
	})
	return mux
}

// Quota is the answer of /quota/{feature}.
type Quota struct {
	Customer  string `json:"customer"`
	Feature   string `json:"feature"`
	Allowance int64  `json:"allowance"`
	Reason    string `json:"reason"`
	Variant   string `json:"variant"`
	Error     string `json:"error,omitempty"`
}
