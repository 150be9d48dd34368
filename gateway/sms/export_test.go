package sms

// The scrubber's batch and workers, for the tests.
const (
	ScrubBatch   = scrubBatch
	ScrubWorkers = scrubWorkers
)
