package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

// Imports write their records with COPY, a batch per transaction, into
// generations no lookup reads; one last transaction makes them current
// (see meta/vulndb.go). Readers never wait for an import: a lookup is one
// statement, which sees the generations current when it started.

func (s *Store) ImportVulns(ctx context.Context, imp meta.VulnImport, records iter.Seq2[*meta.VulnRecord, error]) (_ []meta.VulnEcosystem, err error) {
	if imp.LoadedAt.IsZero() {
		return nil, errors.New("meta/postgres: import vulnerabilities: no time given")
	}
	for _, e := range imp.Ecosystems {
		if err := meta.CheckVulnEcosystem(e); err != nil {
			return nil, fmt.Errorf("meta/postgres: import vulnerabilities: %w", err)
		}
	}
	gens := map[string]int64{}
	defer func() {
		if err != nil {
			// What was written is unseen; remove it now rather than at the
			// next prune. A cancelled import still cleans up.
			for _, gen := range gens {
				if derr := s.deleteVulnGeneration(context.WithoutCancel(ctx), gen, `state = 'staging'`); derr != nil {
					err = errors.Join(err, derr)
				}
			}
		}
	}()
	stage := func(ecosystem string) error {
		if _, ok := gens[ecosystem]; ok {
			return nil
		}
		// In a transaction of its own, so that the import's clean-up
		// knows every generation it started, even in a batch that failed.
		var gen int64
		err := s.retry(ctx, "import vulnerabilities", func() error {
			return s.pool.QueryRow(ctx, `
				INSERT INTO vuln_generations (ecosystem, state, source, loaded_at) VALUES ($1, 'staging', $2, $3)
				RETURNING id`, ecosystem, imp.Source, imp.LoadedAt).Scan(&gen)
		})
		if err != nil {
			return err
		}
		gens[ecosystem] = gen
		return nil
	}
	for _, e := range imp.Ecosystems {
		if err := stage(e); err != nil {
			return nil, err
		}
	}
	err = meta.BatchVulns(records, func(batch []*meta.VulnRecord) error {
		var recs, pkgs [][]any
		for _, r := range batch {
			if err := stage(r.Ecosystem); err != nil {
				return err
			}
			gen := gens[r.Ecosystem]
			recs = append(recs, []any{gen, r.ID, ts(r.Modified), r.Data})
			// COPY has no ON CONFLICT: a record may name one package in
			// several places, so its keys are made unique here.
			seen := map[meta.VulnKey]bool{}
			for _, k := range r.Keys {
				if !seen[k] {
					seen[k] = true
					pkgs = append(pkgs, []any{k.Ecosystem, k.Name, gen, r.ID})
				}
			}
		}
		return s.write(ctx, "import vulnerabilities", func(tx pgx.Tx) error {
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"vuln_records"}, []string{"generation", "id", "modified", "data"}, pgx.CopyFromRows(recs))
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
				return fmt.Errorf("a record comes twice: %s", pgErr.Detail)
			}
			if err != nil {
				return err
			}
			_, err = tx.CopyFrom(ctx, pgx.Identifier{"vuln_packages"}, []string{"ecosystem", "name", "generation", "id"}, pgx.CopyFromRows(pkgs))
			return err
		})
	})
	if err != nil {
		return nil, wrap(ctx, "import vulnerabilities", err)
	}
	return s.commitVulns(ctx, gens, imp)
}

// commitVulns makes the import's generations current, all in one
// transaction, and counts a new version of the data. Two imports
// committing at once queue on vuln_version's row; the last one's
// generations are current.
func (s *Store) commitVulns(ctx context.Context, gens map[string]int64, imp meta.VulnImport) ([]meta.VulnEcosystem, error) {
	var out []meta.VulnEcosystem
	err := s.write(ctx, "import vulnerabilities", func(tx pgx.Tx) error {
		out = out[:0]
		if _, err := tx.Exec(ctx, `UPDATE vuln_version SET version = version + 1, changed_at = $1`, imp.LoadedAt); err != nil {
			return err
		}
		for _, e := range slices.Sorted(maps.Keys(gens)) {
			gen := gens[e]
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM vuln_records WHERE generation = $1`, gen).Scan(&n); err != nil {
				return err
			}
			// The check that the generation is still staging: a prune
			// removes one it takes for a dead import's.
			if err := execAffect(ctx, tx, fmt.Errorf("the import of %s was removed as abandoned after %v", e, meta.VulnStaleAfter), `
				UPDATE vuln_generations SET state = 'committed', records = $2 WHERE id = $1 AND state = 'staging'`, gen, n); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO vuln_ecosystems (ecosystem, generation) VALUES ($1, $2)
				ON CONFLICT (ecosystem) DO UPDATE SET generation = excluded.generation`, e, gen); err != nil {
				return err
			}
			out = append(out, meta.VulnEcosystem{Ecosystem: e, Records: n, Source: imp.Source, LoadedAt: imp.LoadedAt.UTC()})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// findVulnsQuery finds the current records of the packages named by $1 and
// $2 (their ecosystems and names): one index seek in vuln_packages per
// package, and each record read once however many of them it affects.
const findVulnsQuery = `
	SELECT e.ecosystem, r.id, r.modified, r.data
	FROM vuln_records r JOIN vuln_ecosystems e ON e.generation = r.generation
	WHERE (r.generation, r.id) IN (
		SELECT p.generation, p.id
		FROM unnest($1::text[], $2::text[]) AS k (ecosystem, name)
		JOIN vuln_packages p ON p.ecosystem = k.ecosystem AND p.name = k.name)
	ORDER BY e.ecosystem, r.id`

func (s *Store) FindVulns(ctx context.Context, keys []meta.VulnKey) ([]*meta.VulnRecord, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	ecosystems, names := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		ecosystems[i], names[i] = k.Ecosystem, k.Name
	}
	rows, _ := s.pool.Query(ctx, findVulnsQuery, ecosystems, names)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*meta.VulnRecord, error) {
		var (
			r        meta.VulnRecord
			modified pgtype.Timestamptz
		)
		err := row.Scan(&r.Ecosystem, &r.ID, &modified, &r.Data)
		r.Modified = fromTS(modified)
		return &r, err
	})
	if err != nil {
		return nil, wrap(ctx, "find vulnerabilities", err)
	}
	return out, nil
}

func (s *Store) VulnEcosystems(ctx context.Context) ([]meta.VulnEcosystem, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT e.ecosystem, g.records, g.source, g.loaded_at
		FROM vuln_ecosystems e JOIN vuln_generations g ON g.id = e.generation
		ORDER BY e.ecosystem`)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (meta.VulnEcosystem, error) {
		var (
			e      meta.VulnEcosystem
			loaded time.Time
		)
		err := row.Scan(&e.Ecosystem, &e.Records, &e.Source, &loaded)
		e.LoadedAt = loaded.UTC()
		return e, err
	})
	if err != nil {
		return nil, wrap(ctx, "vulnerability ecosystems", err)
	}
	return out, nil
}

func (s *Store) VulnVersion(ctx context.Context) (meta.VulnVersion, error) {
	var (
		v       meta.VulnVersion
		changed pgtype.Timestamptz
	)
	if err := s.pool.QueryRow(ctx, `SELECT version, changed_at FROM vuln_version`).Scan(&v.Version, &changed); err != nil {
		return meta.VulnVersion{}, wrap(ctx, "vulnerability data version", err)
	}
	v.ChangedAt = fromTS(changed)
	return v, nil
}

// vulnGarbage is the condition on a vuln_generations row that it is
// garbage: replaced by a later import, or left by one that died (the
// parameter stale is the time before which a staging generation counts as
// dead).
func vulnGarbage(stale string) string {
	return `(state = 'committed' AND NOT EXISTS (SELECT 1 FROM vuln_ecosystems e WHERE e.generation = vuln_generations.id)
		OR state = 'staging' AND loaded_at < ` + stale + `)`
}

func (s *Store) PruneVulns(ctx context.Context, now time.Time) error {
	stale := now.Add(-meta.VulnStaleAfter)
	rows, _ := s.pool.Query(ctx, `SELECT id FROM vuln_generations WHERE `+vulnGarbage("$1")+` ORDER BY id`, stale)
	gens, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return wrap(ctx, "prune vulnerabilities", err)
	}
	for _, gen := range gens {
		// The condition again, in the deleting transaction: a staging
		// generation may have been committed since.
		if err := s.deleteVulnGeneration(ctx, gen, vulnGarbage("$2"), stale); err != nil {
			return err
		}
	}
	return nil
}

// vulnDeleteBatch is how many rows of a generation one transaction
// deletes: a prune's transactions stay short.
const vulnDeleteBatch = 5000

// deleteVulnGeneration removes generation gen if its row still meets cond
// (whose parameters start at $2), first the row (so an import still
// writing it cannot commit it any more), then its records and packages, a
// batch per transaction.
func (s *Store) deleteVulnGeneration(ctx context.Context, gen int64, cond string, args ...any) error {
	op := fmt.Sprintf("remove vulnerability data generation %d", gen)
	var deleted bool
	err := s.retry(ctx, op, func() error {
		tag, err := s.pool.Exec(ctx, `DELETE FROM vuln_generations WHERE id = $1 AND `+cond, append([]any{gen}, args...)...)
		deleted = tag.RowsAffected() > 0
		return err
	})
	if err != nil || !deleted {
		return err
	}
	for _, q := range []string{
		`DELETE FROM vuln_packages WHERE ctid = ANY (ARRAY (SELECT ctid FROM vuln_packages WHERE generation = $1 LIMIT $2))`,
		`DELETE FROM vuln_records WHERE ctid = ANY (ARRAY (SELECT ctid FROM vuln_records WHERE generation = $1 LIMIT $2))`,
	} {
		for {
			var n int64
			err := s.retry(ctx, op, func() error {
				tag, err := s.pool.Exec(ctx, q, gen, vulnDeleteBatch)
				n = tag.RowsAffected()
				return err
			})
			if err != nil {
				return err
			}
			if n < vulnDeleteBatch {
				break
			}
		}
	}
	return nil
}
