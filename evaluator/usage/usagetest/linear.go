package usagetest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/promoctl/promoctl/evaluator/usage"
)

// Op is one consume as a client saw it: from the first attempt's call to
// the answer that ended its retries. Attempts that got no answer (a
// timeout, a 503) are folded into it, so its interval covers wherever the
// store applied it.
type Op struct {
	Client   int
	Customer string
	Key      string
	Amount   int64
	Call     time.Time
	Return   time.Time
	// The answer.
	Allowed   bool
	Duplicate bool
	// From is what the answer says was taken, bucket by bucket.
	From map[string]int64
}

// History is every customer's buckets (unchanging during the run: no
// period boundary passes) and the consumes made.
type History struct {
	Buckets map[string][]usage.Bucket
	Overage usage.Overage
	Ops     []Op
}

// CheckLinearizable fails the test unless the history is linearizable.
func CheckLinearizable(t *testing.T, h History, timeout time.Duration) {
	t.Helper()
	if err := Linearizable(h, timeout); err != nil {
		t.Fatal(err)
	}
}

// Linearizable holds that the history is that of one atomic balance per
// customer, computed by usage.Consume: every answer is what a consume at
// some instant within its interval, applied one at a time, answers; a key
// is applied once and its repeats answer the first result.
func Linearizable(h History, timeout time.Duration) error {
	model := porcupine.Model{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			byCustomer := map[string][]porcupine.Operation{}
			var order []string
			for _, op := range history {
				c := op.Input.(Op).Customer
				if _, ok := byCustomer[c]; !ok {
					order = append(order, c)
				}
				byCustomer[c] = append(byCustomer[c], op)
			}
			out := make([][]porcupine.Operation, 0, len(order))
			for _, c := range order {
				out = append(out, byCustomer[c])
			}
			return out
		},
		Init: func() interface{} { return "" },
		Step: func(state, input, output interface{}) (bool, interface{}) {
			op := input.(Op)
			st := decodeState(state.(string))
			if first, ok := st.keys[op.Key]; ok {
				return op.Duplicate && first == encodeFrom(op.From), state
			}
			buckets := h.Buckets[op.Customer]
			used := make([]int64, len(buckets))
			for i, b := range buckets {
				used[i] = st.used[b.ID]
			}
			plan := usage.Consume(buckets, used, op.Amount, h.Overage)
			if plan.Allowed != op.Allowed {
				return false, state
			}
			if !plan.Allowed {
				return true, state
			}
			taken := map[string]int64{}
			for _, tk := range plan.Takes {
				taken[tk.Bucket] += tk.Amount
			}
			if encodeFrom(taken) != encodeFrom(op.From) {
				return false, state
			}
			for b, n := range taken {
				st.used[b] += n
			}
			st.keys[op.Key] = encodeFrom(taken)
			return true, st.encode()
		},
		DescribeOperation: func(input, output interface{}) string {
			op := input.(Op)
			return fmt.Sprintf("%s %s %d → allowed=%v dup=%v %s", op.Customer, op.Key, op.Amount, op.Allowed, op.Duplicate, encodeFrom(op.From))
		},
	}
	ops := make([]porcupine.Operation, 0, len(h.Ops))
	for _, op := range h.Ops {
		ops = append(ops, porcupine.Operation{ClientId: op.Client, Input: op, Output: op, Call: op.Call.UnixNano(), Return: op.Return.UnixNano()})
	}
	if res := porcupine.CheckOperationsTimeout(model, ops, timeout); res != porcupine.Ok {
		return fmt.Errorf("the history of %d consumes is not linearizable (%s)", len(ops), res)
	}
	return nil
}

func encodeFrom(from map[string]int64) string {
	keys := make([]string, 0, len(from))
	for k, v := range from {
		if v != 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d;", k, from[k])
	}
	return b.String()
}

// modelState is a customer's counters and recorded keys, encoded as one
// string so that porcupine can compare and cache states.
type modelState struct {
	used map[string]int64
	keys map[string]string
}

func decodeState(s string) modelState {
	st := modelState{used: map[string]int64{}, keys: map[string]string{}}
	if s == "" {
		return st
	}
	usedPart, keysPart, _ := strings.Cut(s, "\n")
	for _, kv := range strings.Split(usedPart, "\t") {
		if k, v, ok := strings.Cut(kv, "\x00"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			st.used[k] = n
		}
	}
	for _, kv := range strings.Split(keysPart, "\t") {
		if k, v, ok := strings.Cut(kv, "\x00"); ok {
			st.keys[k] = v
		}
	}
	return st
}

func (st modelState) encode() string {
	var b strings.Builder
	for i, k := range sortedKeys(st.used) {
		if i > 0 {
			b.WriteByte('\t')
		}
		b.WriteString(k + "\x00" + strconv.FormatInt(st.used[k], 10))
	}
	b.WriteByte('\n')
	for i, k := range sortedKeys(st.keys) {
		if i > 0 {
			b.WriteByte('\t')
		}
		b.WriteString(k + "\x00" + st.keys[k])
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
