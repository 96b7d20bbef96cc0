package users

import (
	"context"
	"sync"
	"time"

	"resellerportal/store"
)

// currentCache keeps the users behind live sessions in memory, so a signed-in
// request does not read its user from the database each time. An entry is
// trusted while no user or session has changed in this process since it was
// read (store.DB.IdentityVersion) and for at most cacheFor, which bounds how
// long a change made by another process (the command line) takes to show.
type currentCache struct {
	mu      sync.Mutex
	entries map[int64]cachedUser
}

type cachedUser struct {
	user    store.User
	version uint64
	readAt  time.Time
}

const (
	cacheFor      = 10 * time.Second
	maxCacheUsers = 10000
)

// Current returns the user behind a session: from memory while nothing
// about users has changed, else from the database.
func (s *Service) Current(ctx context.Context, id int64) (store.User, error) {
	version := s.db.IdentityVersion()
	now := s.now()
	s.current.mu.Lock()
	c, ok := s.current.entries[id]
	s.current.mu.Unlock()
	if ok && c.version == version && now.Sub(c.readAt) < cacheFor && now.Sub(c.readAt) >= 0 {
		return c.user, nil
	}
	u, err := s.db.UserByID(ctx, id)
	if err != nil {
		return store.User{}, err
	}
	s.current.mu.Lock()
	defer s.current.mu.Unlock()
	if s.current.entries == nil || len(s.current.entries) >= maxCacheUsers {
		s.current.entries = map[int64]cachedUser{}
	}
	s.current.entries[id] = cachedUser{user: u, version: version, readAt: now}
	return u, nil
}
