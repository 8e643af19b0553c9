package usage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/usage"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, rec := range []usage.Recorded{
		{BodyHash: "ab12", Outcome: usage.OutcomeConsumed, Amount: 15, Remaining: 69985, At: apr25.Add(90 * time.Minute),
			Takes: takes(burst, 10, boost, 5)},
		{BodyHash: "cd", Outcome: usage.OutcomeConsumedOver, Amount: 7, Overage: 7, At: apr25, Released: true,
			Takes: []usage.Take{{Bucket: "plan:never", PeriodStart: time.Unix(0, 0).Add(time.Millisecond).UTC(), Amount: 7}}},
		{BodyHash: "ef", Outcome: usage.OutcomeConsumed, Amount: usage.MaxAmount, Unlimited: true, At: apr25,
			Takes: takes(boost, usage.MaxAmount)},
	} {
		line := usage.EncodeRecord(rec)
		got, err := usage.DecodeRecord(line)
		require.NoError(t, err, line)
		assert.Equal(t, rec, got, line)
	}
}

func TestDecodeRecordRefusesDamage(t *testing.T) {
	for _, line := range []string{"", "h|consumed|1|0|0|0|0", "h|consumed|x|0|0|0|0|0", "h|consumed|1|0|0|0|0|0|b|1|2", "h|consumed|1|0|0|0|0|0|b|1|2|z"} {
		_, err := usage.DecodeRecord(line)
		assert.Error(t, err, line)
	}
}
