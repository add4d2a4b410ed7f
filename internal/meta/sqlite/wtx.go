package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxWriteStmts bounds the writer's statement cache. Every statement run in
// a write transaction is a fixed text today, so the bound is a guard only.
const maxWriteStmts = 256

// wtx is a write transaction whose statements run prepared.
//
// The pure-Go driver parses and plans SQL on every Exec; a profile of
// small-image pushes found a tenth of the server's CPU in the parser, for
// the three write transactions of each blob. A statement prepared once on
// the writer's single connection is reused by every later transaction
// (database/sql finds it prepared on that connection). A statement is
// prepared after the transaction that first ran it ends, because the
// writer pool has one connection and the transaction holds it.
type wtx struct {
	*sql.Tx
	s *Store
}

// writeStmts is the writer's statement cache.
type writeStmts struct {
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
}

func (t *wtx) stmt(ctx context.Context, query string) *sql.Stmt {
	w := &t.s.wst
	w.mu.Lock()
	st := w.stmts[query]
	if st == nil && len(w.stmts)+len(w.pending) < maxWriteStmts {
		if w.pending == nil {
			w.pending = map[string]bool{}
		}
		w.pending[query] = true
	}
	w.mu.Unlock()
	if st == nil {
		return nil
	}
	return t.Tx.StmtContext(ctx, st)
}

func (t *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

func (t *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

// preparePending prepares the statements that transactions ran unprepared.
// It runs outside any transaction. A statement that fails to prepare is
// not tried again; it keeps running unprepared.
func (s *Store) preparePending(ctx context.Context) {
	w := &s.wst
	w.mu.Lock()
	if len(w.pending) == 0 {
		w.mu.Unlock()
		return
	}
	queries := make([]string, 0, len(w.pending))
	for q := range w.pending {
		queries = append(queries, q)
	}
	w.mu.Unlock()
	for _, q := range queries {
		st, err := s.w.PrepareContext(context.WithoutCancel(ctx), q)
		w.mu.Lock()
		delete(w.pending, q)
		if err == nil {
			if w.stmts == nil {
				w.stmts = map[string]*sql.Stmt{}
			}
			if w.stmts[q] == nil {
				w.stmts[q], st = st, nil
			}
		}
		w.mu.Unlock()
		if st != nil {
			st.Close()
		}
	}
}

func (w *writeStmts) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.stmts {
		st.Close()
	}
	w.stmts = nil
}
