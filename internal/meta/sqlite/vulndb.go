package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// vulnStaging is an import's generations being written, by ecosystem.
type vulnStaging struct {
	gens map[string]int64
}

func (s *Store) ImportVulns(ctx context.Context, imp meta.VulnImport, records iter.Seq2[*meta.VulnRecord, error]) (_ []meta.VulnEcosystem, err error) {
	if imp.LoadedAt.IsZero() {
		return nil, errors.New("meta/sqlite: import vulnerabilities: no time given")
	}
	for _, e := range imp.Ecosystems {
		if err := meta.CheckVulnEcosystem(e); err != nil {
			return nil, fmt.Errorf("meta/sqlite: import vulnerabilities: %w", err)
		}
	}
	st := &vulnStaging{gens: map[string]int64{}}
	defer func() {
		if err != nil {
			// What was written is unseen; remove it now rather than at the
			// next prune. A cancelled import still cleans up.
			for _, gen := range st.gens {
				if derr := s.deleteVulnGeneration(context.WithoutCancel(ctx), gen, `state = 'staging'`); derr != nil {
					err = errors.Join(err, derr)
				}
			}
		}
	}()
	for _, e := range imp.Ecosystems {
		if err := s.stageVulnGeneration(ctx, st, imp, e); err != nil {
			return nil, err
		}
	}
	err = meta.BatchVulns(records, func(batch []*meta.VulnRecord) error {
		for _, r := range batch {
			if err := s.stageVulnGeneration(ctx, st, imp, r.Ecosystem); err != nil {
				return err
			}
		}
		return s.write(ctx, "import vulnerabilities", func(tx *wtx) error {
			for _, r := range batch {
				if err := insertVulnRecord(ctx, tx, st.gens[r.Ecosystem], r); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: import vulnerabilities: %w", err)
	}
	return s.commitVulns(ctx, st, imp)
}

// stageVulnGeneration starts ecosystem's generation of the import, unless
// it has one. In a transaction of its own: were it allocated in a batch
// that then failed, SQLite could hand its id to another import, whose rows
// this import's clean-up would then remove.
func (s *Store) stageVulnGeneration(ctx context.Context, st *vulnStaging, imp meta.VulnImport, ecosystem string) error {
	if _, ok := st.gens[ecosystem]; ok {
		return nil
	}
	var gen int64
	err := s.write(ctx, "import vulnerabilities", func(tx *wtx) error {
		return tx.QueryRowContext(ctx, `
			INSERT INTO vuln_generations (ecosystem, state, source, loaded_at) VALUES (?, 'staging', ?, ?)
			RETURNING id`, ecosystem, imp.Source, imp.LoadedAt.UnixNano()).Scan(&gen)
	})
	if err != nil {
		return err
	}
	st.gens[ecosystem] = gen
	return nil
}

func insertVulnRecord(ctx context.Context, tx *wtx, gen int64, r *meta.VulnRecord) error {
	err := execAffect(ctx, tx, fmt.Errorf("record %s of %s comes twice", r.ID, r.Ecosystem), `
		INSERT INTO vuln_records (generation, id, modified, data) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		gen, r.ID, nanos(r.Modified), r.Data)
	if err != nil {
		return err
	}
	for _, k := range r.Keys {
		// OR IGNORE: a record may name one package in several places.
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO vuln_packages (ecosystem, name, generation, id) VALUES (?, ?, ?, ?)`,
			k.Ecosystem, k.Name, gen, r.ID); err != nil {
			return fmt.Errorf("record %s of %s: %w", r.ID, r.Ecosystem, err)
		}
	}
	return nil
}

// commitVulns makes the import's generations current, all in one
// transaction, and counts a new version of the data.
func (s *Store) commitVulns(ctx context.Context, st *vulnStaging, imp meta.VulnImport) ([]meta.VulnEcosystem, error) {
	ecosystems := slices.Sorted(maps.Keys(st.gens))
	var out []meta.VulnEcosystem
	err := s.write(ctx, "import vulnerabilities", func(tx *wtx) error {
		for _, e := range ecosystems {
			gen := st.gens[e]
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM vuln_records WHERE generation = ?`, gen).Scan(&n); err != nil {
				return err
			}
			// The check that the generation is still staging: a prune
			// removes one it takes for a dead import's.
			if err := execAffect(ctx, tx, fmt.Errorf("the import of %s was removed as abandoned after %v", e, meta.VulnStaleAfter), `
				UPDATE vuln_generations SET state = 'committed', records = ? WHERE id = ? AND state = 'staging'`, n, gen); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO vuln_ecosystems (ecosystem, generation) VALUES (?, ?)
				ON CONFLICT (ecosystem) DO UPDATE SET generation = excluded.generation`, e, gen); err != nil {
				return err
			}
			out = append(out, meta.VulnEcosystem{Ecosystem: e, Records: n, Source: imp.Source, LoadedAt: imp.LoadedAt.UTC()})
		}
		_, err := tx.ExecContext(ctx, `UPDATE vuln_version SET version = version + 1, changed_at = ?`, imp.LoadedAt.UnixNano())
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// findVulnsQuery finds the current records of the packages in ?1, a JSON
// array of [ecosystem, name] pairs: one seek in vuln_packages per package,
// and each record read once however many of the packages it affects.
const findVulnsQuery = `
	SELECT e.ecosystem, r.id, r.modified, r.data
	FROM vuln_records r JOIN vuln_ecosystems e ON e.generation = r.generation
	WHERE (r.generation, r.id) IN (
		SELECT p.generation, p.id
		FROM json_each(?1) k
		JOIN vuln_packages p ON p.ecosystem = k.value ->> 0 AND p.name = k.value ->> 1)
	ORDER BY e.ecosystem, r.id`

func (s *Store) FindVulns(ctx context.Context, keys []meta.VulnKey) ([]*meta.VulnRecord, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	pairs := make([][2]string, len(keys))
	for i, k := range keys {
		pairs[i] = [2]string{k.Ecosystem, k.Name}
	}
	arg, err := json.Marshal(pairs)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: find vulnerabilities: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, findVulnsQuery, string(arg))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: find vulnerabilities: %w", err)
	}
	defer rows.Close()
	var out []*meta.VulnRecord
	for rows.Next() {
		var (
			r        meta.VulnRecord
			modified sql.NullInt64
		)
		if err := rows.Scan(&r.Ecosystem, &r.ID, &modified, &r.Data); err != nil {
			return nil, fmt.Errorf("meta/sqlite: find vulnerabilities: %w", err)
		}
		r.Modified = fromNanos(modified)
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: find vulnerabilities: %w", err)
	}
	return out, nil
}

func (s *Store) VulnEcosystems(ctx context.Context) ([]meta.VulnEcosystem, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT e.ecosystem, g.records, g.source, g.loaded_at
		FROM vuln_ecosystems e JOIN vuln_generations g ON g.id = e.generation
		ORDER BY e.ecosystem`)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: vulnerability ecosystems: %w", err)
	}
	defer rows.Close()
	var out []meta.VulnEcosystem
	for rows.Next() {
		var (
			e      meta.VulnEcosystem
			loaded int64
		)
		if err := rows.Scan(&e.Ecosystem, &e.Records, &e.Source, &loaded); err != nil {
			return nil, fmt.Errorf("meta/sqlite: vulnerability ecosystems: %w", err)
		}
		e.LoadedAt = time.Unix(0, loaded).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: vulnerability ecosystems: %w", err)
	}
	return out, nil
}

func (s *Store) VulnVersion(ctx context.Context) (meta.VulnVersion, error) {
	var (
		v       meta.VulnVersion
		changed sql.NullInt64
	)
	if err := s.queryRow(ctx, `SELECT version, changed_at FROM vuln_version`).Scan(&v.Version, &changed); err != nil {
		return meta.VulnVersion{}, fmt.Errorf("meta/sqlite: vulnerability data version: %w", err)
	}
	v.ChangedAt = fromNanos(changed)
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
	stale := now.Add(-meta.VulnStaleAfter).UnixNano()
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM vuln_generations WHERE `+vulnGarbage("?1")+` ORDER BY id`, stale)
	if err != nil {
		return fmt.Errorf("meta/sqlite: prune vulnerabilities: %w", err)
	}
	var gens []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("meta/sqlite: prune vulnerabilities: %w", err)
		}
		gens = append(gens, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("meta/sqlite: prune vulnerabilities: %w", err)
	}
	for _, gen := range gens {
		// The condition again, in the deleting transaction: a staging
		// generation may have been committed since.
		if err := s.deleteVulnGeneration(ctx, gen, vulnGarbage("?2"), stale); err != nil {
			return err
		}
	}
	return nil
}

// vulnDeleteBatch is how many rows of a generation one transaction
// deletes: pruning runs beside pushes, which wait for the writer.
const vulnDeleteBatch = 2000

// deleteVulnGeneration removes generation gen if its row still meets cond
// (whose parameters start at ?2), first the row (so an import still writing
// it cannot commit it any more), then its records and packages, a batch per
// transaction.
func (s *Store) deleteVulnGeneration(ctx context.Context, gen int64, cond string, args ...any) error {
	op := fmt.Sprintf("remove vulnerability data generation %d", gen)
	var deleted bool
	err := s.write(ctx, op, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM vuln_generations WHERE id = ?1 AND `+cond, append([]any{gen}, args...)...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		deleted = n > 0
		return err
	})
	if err != nil || !deleted {
		return err
	}
	for _, q := range []string{
		`DELETE FROM vuln_packages WHERE (ecosystem, name, generation, id) IN (
			SELECT ecosystem, name, generation, id FROM vuln_packages WHERE generation = ?1 LIMIT ?2)`,
		`DELETE FROM vuln_records WHERE rowid IN (SELECT rowid FROM vuln_records WHERE generation = ?1 LIMIT ?2)`,
	} {
		for {
			var n int64
			err := s.write(ctx, op, func(tx *wtx) error {
				res, err := tx.ExecContext(ctx, q, gen, vulnDeleteBatch)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
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
