package postgres

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/audit"
)

var _ audit.Watcher = (*Store)(nil)

// Channel returns the LISTEN channel on which every commit of entries into
// the store's schema is announced, by any process (see Watch).
func (s *Store) Channel() string { return channelName(s.schema) }

func channelName(schema string) string {
	sum := md5.Sum([]byte(schema))
	return "wtb_entries_" + hex.EncodeToString(sum[:])
}

// LastSeq returns the highest seq committed in the schema, 0 when it holds
// no entry. It reads the primary key's last entry, whatever the log's size.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	if err := s.check(ctx, "last seq"); err != nil {
		return 0, err
	}
	var seq int64
	if err := s.pool.QueryRow(ctx, s.q.lastSeq).Scan(&seq); err != nil {
		return 0, s.wrap(ctx, "last seq", err)
	}
	return seq, nil
}

// Watch implements audit.Watcher with LISTEN/NOTIFY: a trigger on the
// entries table notifies the schema's channel (Channel) in every
// transaction that inserts entries, and PostgreSQL delivers the
// notification once that transaction has committed, whichever process or
// machine it came from.
//
// Watch holds one connection of its own (outside the pool) while it runs.
// It calls wake once LISTEN is in place, then after every notification;
// wake must not block (a caller coalesces wake-ups). It returns when ctx is
// done, with ctx's error, or when the connection fails; notifications sent
// while no Watch listens are lost, which is why a caller that watches again
// reads the log after the first wake of the new call.
func (s *Store) Watch(ctx context.Context, wake func()) error {
	if err := s.check(ctx, "watch"); err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return s.wrap(ctx, "watch: connect", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.Channel()}.Sanitize()); err != nil {
		return s.wrap(ctx, "watch: listen", err)
	}
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return s.wrap(ctx, "watch", err)
		}
		if s.closed.Load() {
			return fmt.Errorf("postgres: watch: %w", audit.ErrClosed)
		}
		wake()
	}
}
