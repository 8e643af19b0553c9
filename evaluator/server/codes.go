package server

// ErrorCode is the code of an error answer, {"error":{"code":…}}. Clients
// branch on it; the message is for people.
type ErrorCode string

// The sidecar's error codes (docs/sidecar.md lists them with their HTTP
// statuses).
const (
	CodeInvalidArgument   ErrorCode = "INVALID_ARGUMENT"
	CodeNotReady          ErrorCode = "NOT_READY"
	CodeFeatureNotFound   ErrorCode = "FEATURE_NOT_FOUND"
	CodePromotionNotFound ErrorCode = "PROMOTION_NOT_FOUND"
	CodeNotFound          ErrorCode = "NOT_FOUND"
	CodeMethodNotAllowed  ErrorCode = "METHOD_NOT_ALLOWED"
	CodeUnauthenticated   ErrorCode = "UNAUTHENTICATED"
	CodePayloadTooLarge   ErrorCode = "PAYLOAD_TOO_LARGE"
	CodeInternal          ErrorCode = "INTERNAL"
	CodeUnknownPlan       ErrorCode = "UNKNOWN_PLAN"
	CodeCustomerNotFound  ErrorCode = "CUSTOMER_NOT_FOUND"

	CodeIdempotencyKeyReused  ErrorCode = "IDEMPOTENCY_KEY_REUSED"
	CodeUsageStoreUnavailable ErrorCode = "USAGE_STORE_UNAVAILABLE"
	CodeUsageDisabled         ErrorCode = "USAGE_DISABLED"
)
