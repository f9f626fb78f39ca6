package harvester

import "github.com/robfig/cron/v3"

// pausedEntry is the cron entry of a paused source in Scheduler.entries:
// cron never hands out entry id 0.
const pausedEntry cron.EntryID = 0

// Pause takes source id off the schedule until Resume; a run in flight
// finishes, and Trigger still starts runs by hand. It returns false when
// the source has no schedule.
func (s *Scheduler) Pause(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok {
		return false
	}
	if e.id != pausedEntry {
		s.cron.Remove(e.id)
		e.id = pausedEntry
	}
	return true
}

// Resume puts a paused source back on its schedule. It returns false when
// the source has no schedule.
func (s *Scheduler) Resume(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok {
		return false
	}
	if e.id == pausedEntry {
		e.id = s.schedule(id, e)
	}
	return true
}

// Paused reports whether source id is paused.
func (s *Scheduler) Paused(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	return ok && e.id == pausedEntry
}
