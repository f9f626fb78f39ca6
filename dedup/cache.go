package dedup

// maxCache bounds the profiles kept in memory between batches (twice
// this, see profileCache): a record's candidates are mostly recent.
const maxCache = 32768

// profileCache keeps the profiles decoded lately, without a cost per
// read: puts go to cur, and when cur is full it becomes old and a new cur
// starts, so the most recent maxCache to 2×maxCache profiles stay. Reads
// may run on several goroutines while nothing puts.
type profileCache struct {
	cur, old map[string]*profile
}

func (c *profileCache) get(key string) (*profile, bool) {
	if p, ok := c.cur[key]; ok {
		return p, true
	}
	p, ok := c.old[key]
	return p, ok
}

func (c *profileCache) put(key string, p *profile) {
	if c.cur == nil {
		c.cur = make(map[string]*profile)
	}
	if len(c.cur) >= maxCache {
		c.old, c.cur = c.cur, make(map[string]*profile, maxCache)
	}
	c.cur[key] = p
	delete(c.old, key)
}

func (c *profileCache) del(key string) {
	delete(c.cur, key)
	delete(c.old, key)
}

func (c *profileCache) reset() { c.cur, c.old = nil, nil }
