package allsource

import (
	"errors"
	"strconv"

	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/gen/query"
	"github.com/allsource-go/allsource/runtime"
)

// Error codes of AllSource's API, declared by its specs (x-error-codes) and
// matched with errors.Is by code, whichever client the error came from. The
// runtime's status class sentinels (runtime.ErrNotFound,
// runtime.ErrRateLimited, runtime.ErrConflict, ...) apply too; a follower's
// read_only refusal does not match runtime.ErrConflict.
var (
	// ErrVersionConflict matches an ingest whose expected version was not
	// the entity's; errors.As to *VersionConflictError gives both versions.
	ErrVersionConflict = core.ErrVersionConflict
	// ErrReadOnly matches a write refused by a read-only follower node.
	ErrReadOnly = core.ErrReadOnly
	// ErrSchemaViolation matches a payload that breaks its event type's
	// schema (a tenant in strict schema mode).
	ErrSchemaViolation = core.ErrSchemaViolation
	// ErrQuotaExceeded matches the Query Service's refusal of a tenant
	// over its monthly quota.
	ErrQuotaExceeded = query.ErrQuotaExceeded
	// ErrSubscriptionRequired matches the Query Service's refusal of a
	// tenant without an active subscription.
	ErrSubscriptionRequired = query.ErrSubscriptionRequired
)

// VersionConflictError is an optimistic-concurrency failure of Ingest or
// IngestBatch: the caller expected the entity at version Expected but it is
// at Current. It wraps the *runtime.APIError of the response, so errors.Is
// matches ErrVersionConflict and runtime.ErrConflict.
type VersionConflictError struct {
	// Expected is the version the request expected.
	Expected int64
	// Current is the entity's version on the server.
	Current int64
	// Err is the response's error.
	Err error
}

// Error describes the conflict.
func (e *VersionConflictError) Error() string {
	return "allsource: version conflict: expected version " + strconv.FormatInt(e.Expected, 10) +
		", current version " + strconv.FormatInt(e.Current, 10) + ": " + e.Err.Error()
}

// Unwrap returns the response's error.
func (e *VersionConflictError) Unwrap() error { return e.Err }

// versionConflict returns err as a *VersionConflictError when it is a
// version_conflict response that carries both versions, and err otherwise.
func versionConflict(err error) error {
	var ae *runtime.APIError
	if !errors.Is(err, ErrVersionConflict) || !errors.As(err, &ae) {
		return err
	}
	if d, ok := ae.Detail.(*core.IngestConflict); ok && d.Kind == core.IngestConflictKindVersionConflict {
		return &VersionConflictError{Expected: d.VersionConflict.ExpectedVersion, Current: d.VersionConflict.CurrentVersion, Err: err}
	}
	return err
}
