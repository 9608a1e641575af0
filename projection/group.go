package projection

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// group runs the partitions of a projection that one process started
// together over one stream connection: one goroutine reads the stream,
// one decodes it, and one dispatches each event to the partition that owns
// its entity, whose worker applies it on its own goroutine. So the reading
// and decoding are done once, not once per partition, and each partition
// gets only its own events, in order.
//
// Each partition keeps its own consumer, snapshots and acknowledgements.
// The stream is that of the partition whose snapshot is oldest: Core
// replays from its cursor, which is at or below every partition's
// snapshot, and each partition skips what it already holds. After each
// batch of replayed events, every partition is told the position the
// replay has reached (frameCovered), so that its position moves past the
// events of the others.
//
// A session of the group ends when the stream does or when a partition
// ends its own (a gap, a lagged stream, a malformed frame): the others then
// end theirs too, and the group connects again once every partition that
// still runs has asked for the next session. A partition that stops leaves
// the group without ending the session of the others.
type group struct {
	api     coreAPI
	filters []string
	count   int // partitions of the projection

	mu      sync.Mutex
	members []*member
	sealed  bool          // every member was added
	wake    chan struct{} // a member joined or left
}

// member is a partition of a group.
type member struct {
	index    int    // the partition's index
	consumer string // the partition's consumer name
	// Guarded by the group's mu.
	gone bool         // the partition's worker has ended
	req  *joinRequest // set while it waits for a session
}

// joinRequest is a member's request for the next session.
type joinRequest struct {
	saved int64 // the position of the member's durable snapshot
	reply chan *feed
}

// feed is one member's side of a session: its decoded batches, and the
// channel on which it hands their frames back.
type feed struct {
	batches chan decodedBatch
	free    chan []frame
	quit    chan struct{} // closed when the member leaves the session
	once    sync.Once
	end     context.CancelFunc // ends the session
}

// leave tells the group the member reads no more of this session; with
// endSession, the session ends for every member (the member needs a new
// connection).
func (f *feed) leave(endSession bool) {
	f.once.Do(func() { close(f.quit) })
	if endSession {
		f.end()
	}
}

func newGroup(api coreAPI, filters []string, count int) *group {
	return &group{api: api, filters: filters, count: count, wake: make(chan struct{}, 1)}
}

// add adds the partition index, whose consumer is consumer.
func (g *group) add(index int, consumer string) *member {
	m := &member{index: index, consumer: consumer}
	g.mu.Lock()
	g.members = append(g.members, m)
	g.mu.Unlock()
	return m
}

// seal starts the group once every member was added.
func (g *group) seal() {
	g.mu.Lock()
	g.sealed = true
	g.mu.Unlock()
	go g.run()
}

func (g *group) signal() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// leave removes m from the group for good: its worker has ended.
func (g *group) leave(m *member) {
	g.mu.Lock()
	m.gone = true
	m.req = nil
	g.mu.Unlock()
	g.signal()
}

// join waits for the group's next session and returns m's feed of it. It
// returns errStopping when stopping is closed first, or ctx's error.
func (g *group) join(ctx context.Context, m *member, saved int64, stopping <-chan struct{}) (*feed, error) {
	req := &joinRequest{saved: saved, reply: make(chan *feed, 1)}
	g.mu.Lock()
	m.req = req
	g.mu.Unlock()
	g.signal()
	var err error
	select {
	case f := <-req.reply:
		return f, nil
	case <-stopping:
		err = errStopping
	case <-ctx.Done():
		err = ctx.Err()
	}
	g.mu.Lock()
	taken := m.req != req
	m.req = nil
	g.mu.Unlock()
	if taken {
		// The group took the request: leave the session it started.
		(<-req.reply).leave(false)
	}
	return nil, err
}

// run runs sessions until every member has left.
func (g *group) run() {
	for {
		reqs := g.waitAll()
		if reqs == nil {
			return
		}
		g.session(reqs)
	}
}

// waitAll waits until every member that runs asks for a session, and
// returns their requests, or nil when none runs any more.
func (g *group) waitAll() map[*member]*joinRequest {
	for {
		g.mu.Lock()
		active, ready := 0, 0
		for _, m := range g.members {
			if !m.gone {
				active++
				if m.req != nil {
					ready++
				}
			}
		}
		if g.sealed && active == 0 {
			g.mu.Unlock()
			return nil
		}
		if g.sealed && ready == active {
			reqs := make(map[*member]*joinRequest, active)
			for _, m := range g.members {
				if !m.gone {
					reqs[m] = m.req
					m.req = nil
				}
			}
			g.mu.Unlock()
			return reqs
		}
		g.mu.Unlock()
		<-g.wake
	}
}

// errSessionEnded ends the session of every partition when one of them
// needs a new connection.
var errSessionEnded = errors.New("projection: another partition of the group reconnects")

// session runs one connection for the members of reqs.
func (g *group) session(reqs map[*member]*joinRequest) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The stream of the partition whose snapshot is oldest: Core's cursor
	// for it is at or below its snapshot, so at or below every partition's.
	var first *member
	feeds := make([]*feed, g.count)
	for m, r := range reqs {
		if first == nil || r.saved < reqs[first].saved {
			first = m
		}
		f := &feed{batches: make(chan decodedBatch, 64), free: make(chan []frame, 64), quit: make(chan struct{}), end: cancel}
		feeds[m.index] = f
		r.reply <- f
	}
	st, err := g.api.connect(ctx, first.consumer, g.filters)
	if err != nil {
		g.endAll(feeds, fmt.Errorf("connect: %w", err))
		return
	}
	decoded, free, wait := startDecoding(ctx, st)
	err = g.dispatch(ctx, decoded, free, feeds)
	cancel()
	_ = st.close()
	wait()
	if err != nil {
		g.endAll(feeds, err)
	}
}

// endAll hands err, the end of the session, to every member still in it.
func (g *group) endAll(feeds []*feed, err error) {
	for _, f := range feeds {
		if f == nil {
			continue
		}
		select {
		case f.batches <- decodedBatch{err: err}:
		case <-f.quit:
		}
	}
}

// dispatch splits the decoded batches among the members' feeds until the
// stream ends or ctx is done. It returns nil when it handed the stream's
// error (or a malformed frame's) to every member, or the error to hand
// them.
func (g *group) dispatch(ctx context.Context, decoded <-chan decodedBatch, free chan<- []frame, feeds []*feed) error {
	parts := make([][]frame, g.count)
	take := func(p int) []frame {
		if parts[p] == nil {
			select {
			case fs := <-feeds[p].free:
				parts[p] = fs
			default:
				parts[p] = make([]frame, 0, 64)
			}
		}
		return parts[p]
	}
	add := func(p int, f frame) {
		if feeds[p] != nil {
			parts[p] = append(take(p), f)
		}
	}
	// covered tells every member the replay has reached pos.
	covered := func(pos int64) {
		for p := range feeds {
			add(p, frame{kind: frameCovered, position: pos})
		}
	}
	var live [][]Event // a live batch split by partition
	for {
		var b decodedBatch
		select {
		case b = <-decoded:
		case <-ctx.Done():
			return errSessionEnded
		}
		var reached int64 // the last replay position in b not yet covered
		for i := range b.frames {
			f := &b.frames[i]
			switch f.kind {
			case frameReplay:
				add(partitionOf(f.event.TenantID, f.event.EntityID, g.count), *f)
				reached = f.position
			case frameLive:
				if f.batch == nil {
					add(partitionOf(f.event.TenantID, f.event.EntityID, g.count), *f)
					continue
				}
				if live == nil {
					live = make([][]Event, g.count)
				}
				for j := range f.batch {
					ev := &f.batch[j]
					p := partitionOf(ev.TenantID, ev.EntityID, g.count)
					live[p] = append(live[p], *ev)
				}
				for p, evs := range live {
					if len(evs) > 0 {
						add(p, frame{kind: frameLive, batch: evs})
						live[p] = nil
					}
				}
			default:
				// replay_complete or lagged: every member's, after the
				// position the replay reached.
				if reached > 0 {
					covered(reached)
					reached = 0
				}
				for p := range feeds {
					add(p, *f)
				}
			}
		}
		if reached > 0 {
			covered(reached)
		}
		clear(b.frames)
		select {
		case free <- b.frames[:0]:
		default:
		}
		end := b.err != nil || b.malformed != nil
		for p, f := range feeds {
			if f == nil || parts[p] == nil && !end {
				continue
			}
			select {
			case f.batches <- decodedBatch{frames: parts[p], err: b.err, malformed: b.malformed}:
			case <-f.quit:
			case <-ctx.Done():
				return errSessionEnded
			}
			parts[p] = nil
		}
		if end {
			return nil
		}
	}
}
