package lifecycle

// The relations between manifests that decide an image's fate beyond the
// rules: an index's children follow the index, a referrer follows its
// subject. Evaluate's comment says what the documents say of each.

// resolve applies the relations between manifests to the rules' marks.
func (e *evaluation) resolve(i int) fate {
	switch e.state[i] {
	case 1: // a cycle, which content addressing rules out: leave it be
		return fate{}
	case 2:
		return e.fates[i]
	}
	e.state[i] = 1
	im := &e.images[i]
	var f fate
	switch {
	case im.Subject != "":
		f = e.followSubject(i)
	case len(im.Tags) == 0 && len(e.parents[i]) > 0:
		f = e.followParents(i)
	default:
		f = e.marks[i]
		if f.acted && len(e.parents[i]) > 0 && !e.parentsAllow(i, f.action) {
			f = fate{}
		}
	}
	e.fates[i], e.state[i] = f, 2
	return f
}

func (e *evaluation) followSubject(i int) fate {
	im := &e.images[i]
	s, ok := e.index[im.Subject]
	if !ok {
		return fate{acted: true, action: Action{Type: ActionExpire}}
	}
	sf := e.resolve(s)
	switch sf.end(&e.images[s]) {
	case "":
		return fate{acted: true, action: Action{Type: ActionExpire}, prio: sf.prio}
	case Archive:
		if im.class() != Archive {
			return fate{acted: true, action: Action{Type: ActionTransition, TargetStorageClass: Archive}, prio: sf.prio}
		}
	}
	return fate{}
}

// followParents decides an untagged image that indexes list: it goes when
// they all go, and is archived when none stays in standard storage.
func (e *evaluation) followParents(i int) fate {
	gone := true
	var expireBy, archiveBy int // the lowest rulePriority that acted of each kind
	for _, p := range e.parents[i] {
		pf := e.resolve(p)
		switch pf.end(&e.images[p]) {
		case Standard:
			return fate{}
		case Archive:
			gone = false
			if pf.acted {
				archiveBy = lowest(archiveBy, pf.prio)
			}
		case "":
			expireBy = lowest(expireBy, pf.prio)
		}
	}
	switch {
	case gone:
		return fate{acted: true, action: Action{Type: ActionExpire}, prio: expireBy}
	case e.images[i].class() != Archive:
		return fate{acted: true, action: Action{Type: ActionTransition, TargetStorageClass: Archive}, prio: archiveBy}
	}
	return fate{}
}

// lowest is the lower of two rulePriority values, 0 standing for none.
func lowest(a, b int) int {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// parentsAllow reports whether a rule may act on an image that indexes list.
func (e *evaluation) parentsAllow(i int, a Action) bool {
	for _, p := range e.parents[i] {
		switch e.resolve(p).end(&e.images[p]) {
		case Standard:
			return false
		case Archive:
			if a.Type == ActionExpire {
				return false
			}
		}
	}
	return true
}
