package ofrep

// The JSON bodies of the OFREP routes.

// Evaluation is a successful evaluation.
type Evaluation struct {
	Key      string         `json:"key"`
	Value    any            `json:"value"`
	Reason   Reason         `json:"reason"`
	Variant  string         `json:"variant"`
	Metadata map[string]any `json:"metadata"`
}

// Evaluation renders the flag for the wire; metadata is always an object.
func (f Flag) Evaluation() Evaluation {
	md := f.Metadata()
	if md == nil {
		md = map[string]any{}
	}
	return Evaluation{Key: f.Key, Value: f.Value(), Reason: f.Reason, Variant: f.Variant, Metadata: md}
}

// ErrorBody is a failed evaluation.
type ErrorBody struct {
	Key          string    `json:"key,omitempty"`
	ErrorCode    ErrorCode `json:"errorCode"`
	ErrorDetails string    `json:"errorDetails,omitempty"`
}

// Body renders the error for the wire.
func (e *Error) Body(key string) ErrorBody {
	return ErrorBody{Key: key, ErrorCode: e.Code, ErrorDetails: e.Details}
}

// Bulk is the answer of the bulk route.
type Bulk struct {
	Flags []Evaluation `json:"flags"`
}
