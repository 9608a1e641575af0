package allsource

import "github.com/allsource-go/allsource/gen/core"

// FrameEvents returns the events a stream frame carries, each with its
// position, so that replayed and live events are read the same way
// (e.Event.EntityID, e.Position): one for a replay frame (with its
// position), one for a live event and one per event of a live batch (with
// position 0: Core sends positions with replayed events only), none for
// the other frames (replay_complete, lagged, unknown).
func FrameEvents(f Frame) []PositionedEvent {
	switch f := f.(type) {
	case core.StreamReplay:
		return []PositionedEvent{{Position: f.Position, Event: f.Event}}
	case core.StreamEvent:
		return []PositionedEvent{{Event: f.Event}}
	case core.StreamEventBatch:
		return batchEvents(f.EventBatch)
	}
	return nil
}

func batchEvents(b core.EventBatch) []PositionedEvent {
	out := make([]PositionedEvent, len(b))
	for i := range b {
		out[i] = PositionedEvent{Event: b[i]}
	}
	return out
}
