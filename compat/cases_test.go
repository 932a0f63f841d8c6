package compat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
)

// A logCase is a record without audit fields or secrets, logged through a
// chain of With and WithGroup calls.
type logCase struct {
	name  string
	chain []step
	level slog.Level
	msg   string
	attrs []slog.Attr
}

// A step is With(attrs...) or, when attrs is nil, WithGroup(group).
type step struct {
	group string
	attrs []any
}

func with(attrs ...slog.Attr) step {
	s := step{attrs: []any{}}
	for _, a := range attrs {
		s.attrs = append(s.attrs, a)
	}
	return s
}

func group(name string) step { return step{group: name} }

func (c logCase) logger(h slog.Handler) *slog.Logger {
	l := slog.New(h)
	for _, s := range c.chain {
		if s.attrs == nil {
			l = l.WithGroup(s.group)
		} else {
			l = l.With(s.attrs...)
		}
	}
	return l
}

// emit logs c on l. Bare and wrapped loggers must come through the same
// call of emit, so that their stack traces match (zapslog+stack).
func (c logCase) emit(l *slog.Logger) {
	l.LogAttrs(context.Background(), c.level, c.msg, c.attrs...)
}

// String describes c as code-like text, LogValuers as LV(what they return).
func (c logCase) String() string {
	var b strings.Builder
	b.WriteString("l")
	for _, s := range c.chain {
		if s.attrs == nil {
			fmt.Fprintf(&b, ".WithGroup(%q)", s.group)
			continue
		}
		b.WriteString(".With(")
		for i, a := range s.attrs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(describeAttr(a.(slog.Attr)))
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, ".Log(%s, %q", c.level, c.msg)
	for _, a := range c.attrs {
		b.WriteString(", ")
		b.WriteString(describeAttr(a))
	}
	b.WriteString(")")
	return b.String()
}

func describeAttr(a slog.Attr) string {
	if a.Equal(slog.Attr{}) {
		return "Attr{}"
	}
	return fmt.Sprintf("%q=%s", a.Key, describeValue(a.Value))
}

func describeValue(v slog.Value) string {
	switch v.Kind() {
	case slog.KindGroup:
		parts := make([]string, 0, len(v.Group()))
		for _, a := range v.Group() {
			parts = append(parts, describeAttr(a))
		}
		return "Group(" + strings.Join(parts, ", ") + ")"
	case slog.KindLogValuer:
		return "LV(" + describeValue(v.LogValuer().LogValue()) + ")"
	case slog.KindString:
		return fmt.Sprintf("%q", v.String())
	case slog.KindAny:
		return fmt.Sprintf("%#v", v.Any())
	}
	return v.String()
}

// valuer is a LogValuer whose value is v.
type valuer struct{ v slog.Value }

func (v valuer) LogValue() slog.Value { return v.v }

func lv(v slog.Value) slog.Value { return slog.AnyValue(valuer{v}) }

func lvAttr(key string, v slog.Value) slog.Attr { return slog.Attr{Key: key, Value: lv(v)} }

type point struct {
	X, Y int
	Name string `json:"name"`
}

// fixedCases are the shapes issue 16 names, one by one; the distinct
// root causes found by the random cases are reduced to one of these.
func fixedCases() []logCase {
	i := slog.Int
	g := slog.Group
	gv := slog.GroupValue
	empty := slog.Attr{}
	return []logCase{
		{name: "plain", msg: "m", attrs: []slog.Attr{i("a", 1), slog.String("b", "two words")}},
		{name: "no attrs", msg: "hello"},
		{name: "empty message", attrs: []slog.Attr{i("a", 1)}},
		// Maps have one key: funcr writes them in Go's random order.
		{name: "kinds", msg: "m", attrs: []slog.Attr{slog.Bool("b", true), slog.Float64("f", 1.5), slog.Uint64("u", 7),
			slog.Duration("d", 1500*time.Millisecond), slog.Time("t", time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)),
			slog.Any("err", errors.New("boom")), slog.Any("nil", nil), slog.Any("slice", []int{1, 2}),
			slog.Any("map", map[string]int{"a": 1}), slog.Any("struct", point{1, 2, "p"}), slog.Any("ptr", &point{3, 4, "q"})}},
		{name: "empty attr", msg: "m", attrs: []slog.Attr{empty, i("a", 1)}},
		{name: "only an empty attr", msg: "m", attrs: []slog.Attr{empty}},
		{name: "empty group", msg: "m", attrs: []slog.Attr{g("g"), i("a", 1)}},
		{name: "group of an empty attr", msg: "m", attrs: []slog.Attr{g("g", empty), i("a", 1)}},
		{name: "inline group", msg: "m", attrs: []slog.Attr{g("", i("a", 1), i("b", 2))}},
		{name: "inline group of an empty attr", msg: "m", attrs: []slog.Attr{g("", empty), i("a", 1)}},
		{name: "nested groups", msg: "m", attrs: []slog.Attr{g("g", g("h", i("a", 1)), g("", g("k", i("b", 2))))}},
		{name: "LogValuer", msg: "m", attrs: []slog.Attr{lvAttr("v", slog.StringValue("x"))}},
		{name: "LogValuer int", msg: "m", attrs: []slog.Attr{lvAttr("v", slog.IntValue(1))}},
		{name: "inline LogValuer of nil", msg: "m", attrs: []slog.Attr{lvAttr("", slog.AnyValue(nil))}},
		{name: "LogValuer group", msg: "m", attrs: []slog.Attr{lvAttr("v", gv(i("a", 1), i("b", 2)))}},
		{name: "nested LogValuer", msg: "m", attrs: []slog.Attr{lvAttr("v", lv(slog.IntValue(3)))}},
		{name: "LogValuer group of a LogValuer", msg: "m", attrs: []slog.Attr{lvAttr("v", gv(lvAttr("w", gv(i("a", 1)))))}},
		{name: "LogValuer group of a LogValuer empty group", msg: "m", attrs: []slog.Attr{lvAttr("a", gv(lvAttr("a", gv())))}},
		{name: "LogValuer empty group", msg: "m", attrs: []slog.Attr{lvAttr("v", gv()), i("a", 1)}},
		{name: "LogValuer group of an empty attr", msg: "m", attrs: []slog.Attr{lvAttr("v", gv(empty)), i("a", 1)}},
		{name: "inline LogValuer group", msg: "m", attrs: []slog.Attr{lvAttr("", gv(i("a", 1)))}},
		{name: "LogValuer in a group", msg: "m", attrs: []slog.Attr{g("g", lvAttr("v", slog.IntValue(1)))}},
		{name: "With", chain: []step{with(i("a", 1))}, msg: "m", attrs: []slog.Attr{i("a", 2)}},
		{name: "With a LogValuer", chain: []step{with(lvAttr("v", gv(i("a", 1))))}, msg: "m", attrs: []slog.Attr{i("b", 2)}},
		{name: "With a LogValuer scalar", chain: []step{with(lvAttr("v", slog.IntValue(1)))}, msg: "m"},
		{name: "With a LogValuer empty group", chain: []step{with(lvAttr("v", gv()))}, msg: "m"},
		{name: "With a group holding a LogValuer empty group", chain: []step{with(g("a", lvAttr("n", gv())))}, msg: "m"},
		{name: "With an inline LogValuer of nil", chain: []step{with(lvAttr("", slog.AnyValue(nil)))}, msg: "m"},
		{name: "WithGroup", chain: []step{group("g")}, msg: "m", attrs: []slog.Attr{i("a", 1)}},
		{name: "WithGroup empty name", chain: []step{group(""), with(i("a", 1)), group("")}, msg: "m", attrs: []slog.Attr{i("b", 2)}},
		{name: "WithGroup, no attrs", chain: []step{group("g")}, msg: "m"},
		{name: "WithGroup, only an empty attr", chain: []step{group("g")}, msg: "m", attrs: []slog.Attr{empty}},
		{name: "WithGroup With", chain: []step{group("g"), with(i("a", 1))}, msg: "m", attrs: []slog.Attr{i("b", 2)}},
		{name: "WithGroup With WithGroup", chain: []step{with(i("a", 1)), group("g"), with(i("b", 2)), group("h")}, msg: "m", attrs: []slog.Attr{i("c", 3)}},
		{name: "WithGroup, LogValuer", chain: []step{group("g")}, msg: "m", attrs: []slog.Attr{lvAttr("v", slog.IntValue(1))}},
		{name: "With WithGroup, LogValuer", chain: []step{with(i("a", 1)), group("g")}, msg: "m", attrs: []slog.Attr{lvAttr("v", slog.IntValue(1))}},
		{name: "WithGroup With, LogValuer", chain: []step{group("g"), with(i("a", 1))}, msg: "m", attrs: []slog.Attr{lvAttr("v", slog.IntValue(1))}},
		{name: "WithGroup WithGroup With, LogValuer", chain: []step{group("g"), group("h"), with(i("x", 1))}, msg: "m", attrs: []slog.Attr{lvAttr("n", slog.IntValue(4))}},
		{name: "WithGroup With(empty group), LogValuer", chain: []step{group("g"), with(g("y"))}, msg: "m", attrs: []slog.Attr{lvAttr("n", slog.IntValue(4))}},
		{name: "WithGroup With(x, empty group x), LogValuer", chain: []step{group("g"), with(i("x", 1), g("x"))}, msg: "m", attrs: []slog.Attr{lvAttr("n", slog.IntValue(4))}},
		{name: "WithGroup With WithGroup, LogValuer", chain: []step{group("g"), with(i("a", 1)), group("h")}, msg: "m", attrs: []slog.Attr{lvAttr("v", slog.IntValue(1))}},
		{name: "WithGroup, group of an empty attr and a LogValuer", chain: []step{group("g")}, msg: "m", attrs: []slog.Attr{g("h", empty), lvAttr("v", slog.IntValue(1))}},
		{name: "WithGroup, LogValuer group of an empty attr", chain: []step{group("g")}, msg: "m", attrs: []slog.Attr{lvAttr("v", gv(empty))}},
		{name: "WithGroup, LogValuer empty group", chain: []step{group("g")}, msg: "m", attrs: []slog.Attr{lvAttr("v", gv())}},
		{name: "WithGroup, only a LogValuer of an empty attr", chain: []step{group("g")}, msg: "m", attrs: []slog.Attr{empty, lvAttr("v", gv(empty))}},
		{name: "rebuilt group after a group of an empty attr", chain: []step{group("g"), with(i("a", 1), g("x", empty)), group("h")}, msg: "m", attrs: []slog.Attr{lvAttr("v", slog.IntValue(1))}},
		{name: "ERROR", level: slog.LevelError, msg: "m", attrs: []slog.Attr{i("a", 1)}},
		{name: "ERROR, LogValuer", level: slog.LevelError, msg: "m", attrs: []slog.Attr{lvAttr("v", slog.IntValue(1))}},
		{name: "WARN WithGroup With", level: slog.LevelWarn, chain: []step{group("g"), with(i("a", 1))}, msg: "m", attrs: []slog.Attr{i("b", 2)}},
		{name: "DEBUG", level: slog.LevelDebug, msg: "m", attrs: []slog.Attr{i("a", 1)}},
	}
}

// randomSeed and randomCount fix the random cases: their names
// ("random/N") stay the same from run to run.
const (
	randomSeed  = 16
	randomCount = 300
)

func randomCases() []logCase {
	g := &gen{r: rand.New(rand.NewPCG(randomSeed, 0))}
	cases := make([]logCase, randomCount)
	for n := range cases {
		c := logCase{name: fmt.Sprintf("random/%d", n)}
		for range g.r.IntN(5) {
			if g.r.IntN(5) < 2 {
				c.chain = append(c.chain, group(pick(g.r, "g", "h", "req", "")))
			} else {
				c.chain = append(c.chain, with(g.attrs(2, 3)...))
			}
		}
		c.level = pick(g.r, slog.LevelInfo, slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelDebug)
		c.msg = pick(g.r, "m", "", "two words", "line\nbreak")
		c.attrs = g.attrs(3, 5)
		cases[n] = c
	}
	return cases
}

type gen struct{ r *rand.Rand }

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func (g *gen) attrs(depth, max int) []slog.Attr {
	as := make([]slog.Attr, g.r.IntN(max+1))
	for i := range as {
		as[i] = g.attr(depth)
	}
	return as
}

func (g *gen) key() string { return pick(g.r, "a", "b", "c", "n", "x") }

func (g *gen) attr(depth int) slog.Attr {
	k := 12
	if depth <= 0 {
		k = 7 // scalars only
	}
	switch g.r.IntN(k) {
	case 0:
		return slog.String(g.key(), pick(g.r, "v", "", "two words", `q"uote`, "line\nbreak", "é"))
	case 1:
		return slog.Int(g.key(), g.r.IntN(100)-50)
	case 2:
		return pick(g.r, slog.Bool(g.key(), true), slog.Float64(g.key(), 2.5), slog.Uint64(g.key(), 9))
	case 3:
		return pick(g.r, slog.Duration(g.key(), 3*time.Second), slog.Time(g.key(), time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)))
	case 4:
		return slog.Any(g.key(), pick[any](g.r, errors.New("boom"), nil, []string{"p", "q"}, map[string]int{"a": 1}, point{1, 2, "p"}))
	case 5:
		return slog.Attr{}
	case 6:
		return lvAttr(g.key(), pick(g.r, slog.StringValue("s"), slog.IntValue(4)))
	case 7:
		return slog.Group(g.key(), g.anys(depth-1, 3)...)
	case 8:
		return slog.Group("", g.anys(depth-1, 2)...)
	case 9:
		return lvAttr(g.key(), slog.GroupValue(g.attrs(depth-1, 3)...))
	case 10:
		return lvAttr(pick(g.r, g.key(), ""), lv(g.attr(depth-1).Value))
	default:
		return slog.Group(g.key())
	}
}

func (g *gen) anys(depth, max int) []any {
	var out []any
	for _, a := range g.attrs(depth, max) {
		out = append(out, a)
	}
	return out
}
