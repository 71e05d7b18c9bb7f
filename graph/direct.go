package graph

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// Direct execution: queries over plain data (groups, members, user groups)
// executed without gqlgen's generic per-field machinery.
//
// gqlgen's generated executor pays, for every field of every object, a
// FieldContext, a context value, a marshaler closure and a goroutine per
// list element, plus a CollectFields and a response-path computation per
// object. On a page of 100 members with 11 fields that is two thirds of the
// gateway's CPU. The direct executor runs the same resolvers with the same
// field contexts (so the loaders, selection-aware fetching, errors, paths
// and resolver middleware behave as before) but writes plain struct fields
// straight into the response, collecting each selection set once per list.
//
// It runs in two phases. Resolve: the resolver fields, level by level,
// every resolver of a level concurrently (the loaders see a whole level's
// keys at once). Write: one pass over the selection and the data into one
// buffer, with GraphQL's null propagation.
//
// A query whose every field the plans support runs here; anything else
// (mutations, introspection, interfaces, fields with directives, @defer)
// runs on the generated executor. The differential tests in the root
// package run the same operations through both and compare the responses.

// Pending tells the direct executor, for a resolver field about to run
// (ctx carries its field context, arguments coerced; obj is the object it
// resolves a field of, nil for Query), a channel that closes once the data
// the resolver reads is fetched (a lookup started ahead of the resolvers,
// as resolvers.Prefetch starts them), or nil when the resolver may have to
// make a call of its own. It only changes how the resolvers are scheduled,
// never what they answer: a wrong channel costs time, not correctness.
type Pending func(ctx context.Context, obj any) <-chan struct{}

// Direct wraps the generated executable schema (NewExecutableSchema's) so
// that supported queries run on the direct executor; observe, when not nil,
// is told which executor ran each operation; pending, when not nil, which
// resolvers read data fetched ahead (see Pending).
func Direct(es graphql.ExecutableSchema, observe func(direct bool), pending Pending) graphql.ExecutableSchema {
	inner := es.(*executableSchema)
	if observe == nil {
		observe = func(bool) {}
	}
	shared, _ := lru.New[collectKey, []graphql.CollectedField](sharedCollections) // only fails for a size <= 0
	return &directSchema{executableSchema: inner, root: buildPlans(inner.Schema()), observe: observe, shared: shared,
		pending: pending}
}

// sharedCollections is how many collected selection sets the direct
// executor keeps across requests (see directSchema.shared).
const sharedCollections = 1024

// directSchema is the generated schema with a direct executor in front.
type directSchema struct {
	*executableSchema
	root    *objectPlan
	observe func(direct bool)
	// size is a moving average of the responses' sizes: the first size
	// of the next response's buffer, instead of growing it by doublings.
	size atomic.Int64
	// shared are the collected fields of selection sets that collect the
	// same way whatever the variables (constantSelection), across requests:
	// clients send the same documents again and again (the query cache
	// keeps each parsed once, so its selection sets keep their addresses),
	// and collecting W1's 100 root fields again for every request cost
	// about 5 % of its CPU and 13 % of the bytes it allocated. The fields
	// are only read, as gqlgen shares them within a request. The key holds
	// the document alive as long as it is kept; least recently used out.
	shared *lru.Cache[collectKey, []graphql.CollectedField]
	// pending is Direct's.
	pending Pending
}

// Exec implements graphql.ExecutableSchema.
func (s *directSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	if opCtx.Operation.Operation == ast.Query {
		r := &run{ec: newExecutionContext(opCtx, s.executableSchema, nil), collected: map[collectKey]*collection{},
			shared: s.shared, pending: s.pending}
		if r.supported(s.root, opCtx.Operation.SelectionSet) {
			s.observe(true)
			return s.respond(r, opCtx.Operation.SelectionSet)
		}
		if hasDefer(opCtx.Doc, opCtx.Operation.SelectionSet, 0) {
			s.observe(false)
			return s.execDeferred(opCtx)
		}
	}
	s.observe(false)
	return s.executableSchema.Exec(ctx)
}

// respond is the one-response handler of a direct execution.
func (s *directSchema) respond(r *run, sel ast.SelectionSet) graphql.ResponseHandler {
	done := false
	return func(ctx context.Context) *graphql.Response {
		if done {
			return nil
		}
		done = true
		data := r.execute(ctx, s.root, sel, int(s.size.Load()))
		s.size.Store((s.size.Load()*7 + int64(len(data))) / 8)
		return &graphql.Response{Data: data}
	}
}

// run is one operation's direct execution.
type run struct {
	ctx       context.Context // the operation's, for errors of the write phase
	ec        *executionContext
	collected map[collectKey]*collection
	shared    *lru.Cache[collectKey, []graphql.CollectedField] // directSchema.shared
	pending   Pending
	// last is the collection collect found last: the items of a list ask
	// for the same one in a row.
	last *collection

	mu sync.Mutex
	// contexts are the field contexts built so far, by collected field:
	// the items of a list share their fields' arguments (see fieldContext).
	contexts map[*graphql.CollectedField]*graphql.FieldContext
	buf      []byte
	path     []pathStep // the write phase's position, for null errors
}

// collectKey names a selection set collected for one object type.
type collectKey struct {
	first *ast.Selection
	n     int
	plan  *objectPlan
}

// collection is a selection set collected for one object type.
type collection struct {
	key    collectKey
	fields []graphql.CollectedField
	// writes counts the objects the write phase wrote with the collection.
	// From the second (the items of a list), it writes them with plans and
	// keys, made once (prepare).
	writes int
	// plans are the fields' plans by index (nil for __typename and for a
	// field the type does not have).
	plans []*fieldPlan
	// keys are the fields' response keys as the write phase writes them,
	// by index: the alias as a JSON string, then a colon.
	keys [][]byte
}

// prepare makes the collection's plans and keys, for the objects of p.
func (c *collection) prepare(p *objectPlan) {
	c.plans = make([]*fieldPlan, len(c.fields))
	ends := make([]int, len(c.fields))
	var buf []byte
	for i := range c.fields {
		c.plans[i] = p.fields[c.fields[i].Name]
		buf = append(appendString(buf, c.fields[i].Alias), ':')
		ends[i] = len(buf)
	}
	c.keys = make([][]byte, len(c.fields))
	start := 0
	for i, end := range ends {
		c.keys[i] = buf[start:end:end]
		start = end
	}
}

// collect is graphql.CollectFields, once per selection set and type: the
// members of a list share one collection.
func (r *run) collect(sel ast.SelectionSet, p *objectPlan) []graphql.CollectedField {
	return r.collection(sel, p).fields
}

// collection returns the collection of sel for p, made once.
func (r *run) collection(sel ast.SelectionSet, p *objectPlan) *collection {
	if len(sel) == 0 {
		return &collection{}
	}
	k := collectKey{unsafe.SliceData(sel), len(sel), p}
	if c := r.last; c != nil && c.key == k {
		return c
	}
	c, ok := r.collected[k]
	if !ok {
		c = &collection{key: k, fields: r.collectFields(k, sel, p)}
		r.collected[k] = c
	}
	r.last = c
	return c
}

// collectFields is graphql.CollectFields of sel for p, kept in r.shared
// when the variables cannot change it.
func (r *run) collectFields(k collectKey, sel ast.SelectionSet, p *objectPlan) []graphql.CollectedField {
	if fields, ok := r.shared.Get(k); ok {
		return fields
	}
	fields := graphql.CollectFields(r.ec.OperationContext, sel, p.implementors)
	if constantSelection(r.ec.OperationContext.Doc, sel, 0) {
		r.shared.Add(k, fields)
	}
	return fields
}

// maxConstantDepth bounds how deep constantSelection follows fragments.
const maxConstantDepth = 32

// constantSelection reports whether sel collects the same fields whatever
// the variables: CollectFields reads the variables only for the @skip,
// @include and @defer directives of the selections it walks (the fields
// of sel, its fragments and theirs), so a selection set without any
// directive there collects alike for every request of its document.
func constantSelection(doc *ast.QueryDocument, sel ast.SelectionSet, depth int) bool {
	if depth > maxConstantDepth {
		return false
	}
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if len(s.Directives) > 0 {
				return false
			}
		case *ast.InlineFragment:
			if len(s.Directives) > 0 || !constantSelection(doc, s.SelectionSet, depth+1) {
				return false
			}
		case *ast.FragmentSpread:
			def := doc.Fragments.ForName(s.Name)
			if len(s.Directives) > 0 || def == nil || len(def.Directives) > 0 ||
				!constantSelection(doc, def.SelectionSet, depth+1) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// supported reports whether every field the selection asks for, at any
// depth, has a plan (and none is deferred).
func (r *run) supported(p *objectPlan, sel ast.SelectionSet) bool {
	for _, f := range r.collect(sel, p) {
		if f.Name == "__typename" {
			continue
		}
		fp := p.fields[f.Name]
		if fp == nil || len(f.Deferrables) > 0 {
			return false
		}
		if o := fp.out.objectType(); o != nil && !r.supported(o, f.Selections) {
			return false
		}
	}
	return true
}

// objectType is the object type a value holds, directly or as list items.
func (vp *valuePlan) objectType() *objectPlan {
	for vp.elem != nil {
		vp = vp.elem
	}
	return vp.object
}

// execute runs both phases and returns the response's data, written into
// a buffer of about size bytes to begin with.
func (r *run) execute(ctx context.Context, root *objectPlan, sel ast.SelectionSet, size int) []byte {
	r.ctx = ctx
	n := &node{}
	r.resolve([]task{{ctx: ctx, plan: root, n: n, fields: r.collect(sel, root)}})
	r.buf = make([]byte, 0, min(max(size+size/4, 512), maxInitialBuffer))
	if !r.object(root, reflect.Value{}, sel, n) {
		return append(r.buf[:0], "null"...)
	}
	return r.buf
}

// maxInitialBuffer caps the first size of a response's buffer.
const maxInitialBuffer = 1 << 20

// node holds what the resolve phase found for one object: the result of
// each resolver field and the nodes of the objects below that have
// resolvers of their own, by response key (alias).
type node struct {
	slots map[string]*slot
}

// slot is one field of a node.
type slot struct {
	value  reflect.Value // a resolver's result
	failed bool          // the resolver failed; its error is in the response
	ctx    context.Context
	kids   []*node // the field's object, or one per list item; nil where nothing below resolves
}

func (n *node) slot(alias string) *slot {
	if n == nil {
		return nil
	}
	return n.slots[alias]
}

func (n *node) set(alias string, s *slot) {
	if n.slots == nil {
		n.slots = map[string]*slot{}
	}
	n.slots[alias] = s
}

// task is an object whose resolver fields are due.
type task struct {
	ctx    context.Context // carries the object's field context (path)
	plan   *objectPlan
	obj    reflect.Value // addressable struct; invalid for Query
	fields []graphql.CollectedField
	n      *node
	// item is set for an item of a list, whose fields every item shares.
	item bool
}

// resolve runs the resolver fields level by level: all of one level at
// once, then the objects they returned. A level whose every resolver reads
// data fetched ahead (settled) runs in this goroutine, the others one
// goroutine per resolver.
func (r *run) resolve(level []task) {
	for len(level) > 0 {
		calls := r.calls(level)
		if r.settled(calls) {
			for i := range calls {
				r.call(&calls[i])
			}
		} else {
			var wg sync.WaitGroup
			for i := 1; i < len(calls); i++ {
				wg.Go(func() { r.call(&calls[i]) })
			}
			if len(calls) > 0 {
				r.call(&calls[0])
			}
			wg.Wait()
		}
		level = r.descend(level)
	}
}

// calls returns the resolver calls of a level, each with its slot set in
// its task's node. Calls and slots are allocated in one block each (W1's
// 100 root fields: 2 allocations, not 200).
func (r *run) calls(level []task) []resolverCall {
	var calls []resolverCall
	for j := range level {
		t := &level[j]
		for i, f := range t.fields {
			if fp := t.plan.fields[f.Name]; fp != nil && fp.resolver != nil {
				calls = append(calls, resolverCall{t: t, f: &t.fields[i], rf: fp.resolver})
			}
		}
	}
	slots := make([]slot, len(calls))
	for i := range calls {
		c := &calls[i]
		c.s = &slots[i]
		c.t.n.set(c.f.Alias, c.s)
	}
	return calls
}

// resolverCall is one resolver field of a level, and its field context
// once built, with the context that carries it.
type resolverCall struct {
	t   *task // in the level, which stays as it is until its calls return
	f   *graphql.CollectedField
	rf  *resolverField
	s   *slot
	fc  *graphql.FieldContext
	ctx context.Context
}

// obj is the object the call resolves a field of (nil for Query).
func (c *resolverCall) obj() any {
	if c.t.obj.IsValid() {
		return c.t.obj.Addr().Interface()
	}
	return nil
}

// settled reports whether every call of a level reads data fetched ahead
// (r.pending says which, see Pending), after waiting for that data. The
// resolvers then return without blocking: running them one after the
// other costs less than a goroutine each that only parks on the same
// lookups (W1's 100 group fields on one prefetched call: about a tenth of
// its CPU went on starting, parking and waking them).
func (r *run) settled(calls []resolverCall) bool {
	if r.pending == nil || len(calls) < 2 {
		return false
	}
	waits := make([]<-chan struct{}, 0, len(calls))
	for i := range calls {
		c := &calls[i]
		if !r.prepare(c) {
			continue // failed: nothing to wait for
		}
		w := r.pending(c.ctx, c.obj())
		if w == nil {
			return false
		}
		waits = append(waits, w)
	}
	for _, w := range waits {
		select {
		case <-w:
		case <-r.ctx.Done():
			return false
		}
	}
	return true
}

// prepare builds c's field context (arguments coerced) and the context that carries it;
// false when that failed (the error is reported, the slot marked failed) or panicked.
func (r *run) prepare(c *resolverCall) (ok bool) {
	if c.fc != nil || c.s.failed {
		return !c.s.failed
	}
	defer func() {
		if p := recover(); p != nil {
			r.ec.Error(c.t.ctx, r.ec.Recover(c.t.ctx, p))
			c.s.failed, ok = true, false
		}
	}()
	fc, err := r.fieldContext(*c.t, c.rf, c.f)
	if err != nil {
		c.s.failed = true
		return false
	}
	c.fc, c.ctx = fc, graphql.WithFieldContext(c.t.ctx, fc)
	return true
}

// call runs one resolver as gqlgen's generated code would: its field
// context (arguments coerced), the resolver middleware, errors reported with
// the field's path, a panic turned into an error.
func (r *run) call(c *resolverCall) {
	if !r.prepare(c) {
		return
	}
	fc, ctx := c.fc, c.ctx
	defer func() {
		if p := recover(); p != nil {
			r.ec.Error(ctx, r.ec.Recover(ctx, p))
			c.s.failed = true
		}
	}()
	obj := c.obj()
	res, err := r.ec.ResolverMiddleware(ctx, func(ctx context.Context) (any, error) {
		return c.rf.resolve(ctx, r.ec, obj, fc.Args)
	})
	if err != nil {
		r.ec.Error(ctx, graphql.AddFieldLocationToError(ctx, err))
		c.s.failed = true
		return
	}
	fc.Result = res
	c.s.ctx, c.s.value = ctx, reflect.ValueOf(res)
}

// fieldContext is rf.fieldContext(f) for t: the field's context with its
// arguments coerced. The items of a list have the same fields (one
// collection) with the same arguments, so for them a context built once is
// copied (the copy's Parent is set by graphql.WithFieldContext); other
// fields are built each time, as each is built once anyway. A failure is
// not kept: each item reports its error with its own path.
func (r *run) fieldContext(t task, rf *resolverField, f *graphql.CollectedField) (*graphql.FieldContext, error) {
	if !t.item {
		return rf.fieldContext(r.ec, t.ctx, *f)
	}
	r.mu.Lock()
	built := r.contexts[f]
	r.mu.Unlock()
	if built != nil {
		fc := *built
		return &fc, nil
	}
	fc, err := rf.fieldContext(r.ec, t.ctx, *f)
	if err != nil {
		return fc, err
	}
	kept := *fc
	r.mu.Lock()
	if r.contexts == nil {
		r.contexts = map[*graphql.CollectedField]*graphql.FieldContext{}
	}
	r.contexts[f] = &kept
	r.mu.Unlock()
	return fc, nil
}

// descend returns the objects below a level that have resolver fields to
// run, each with its field context, and links their nodes into the tree.
func (r *run) descend(level []task) []task {
	var next []task
	for _, t := range level {
		for i := range t.fields {
			f := &t.fields[i]
			fp := t.plan.fields[f.Name]
			if fp == nil || !r.resolvesBelow(fp.out, f.Selections) {
				continue
			}
			s, v, ctx := t.n.slot(f.Alias), reflect.Value{}, t.ctx
			if fp.resolver != nil {
				if s.failed {
					continue
				}
				v, ctx = s.value, s.ctx
			} else {
				v = r.read(t.obj, fp)
				s = &slot{}
				t.n.set(f.Alias, s)
				ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: t.plan.name, Field: *f, Result: v.Interface()})
			}
			next = r.expand(ctx, fp.out, v, f.Selections, s, next)
		}
	}
	return next
}

// expand adds the object (or the list's objects) held in v as tasks.
func (r *run) expand(ctx context.Context, vp *valuePlan, v reflect.Value, sel ast.SelectionSet, s *slot, next []task) []task {
	v, ok := deref(vp, v)
	if !ok {
		return next
	}
	if vp.elem == nil {
		n := &node{}
		s.kids = []*node{n}
		return append(next, task{ctx: ctx, plan: vp.object, obj: v, fields: r.collect(sel, vp.object), n: n})
	}
	s.kids = make([]*node, v.Len())
	fields := r.collect(sel, vp.elem.object)
	for i := range v.Len() {
		e, ok := deref(vp.elem, v.Index(i))
		if !ok {
			continue
		}
		idx := i
		n := &node{}
		s.kids[i] = n
		ictx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &idx, Result: e.Interface()})
		next = append(next, task{ctx: ictx, plan: vp.elem.object, obj: e, fields: fields, n: n, item: true})
	}
	return next
}

// deref follows the value's pointer; false when it holds nothing.
func deref(vp *valuePlan, v reflect.Value) (reflect.Value, bool) {
	if !v.IsValid() {
		return v, false
	}
	if vp.ptr {
		if v.IsNil() {
			return v, false
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Slice && v.IsNil() {
		return v, false
	}
	return v, true
}

// resolvesBelow reports whether a value's selection has resolver fields
// at any depth.
func (r *run) resolvesBelow(vp *valuePlan, sel ast.SelectionSet) bool {
	o := vp.objectType()
	if o == nil {
		return false
	}
	for _, f := range r.collect(sel, o) {
		fp := o.fields[f.Name]
		if fp != nil && (fp.resolver != nil || r.resolvesBelow(fp.out, f.Selections)) {
			return true
		}
	}
	return false
}

// read returns a plain field's value.
func (r *run) read(obj reflect.Value, fp *fieldPlan) reflect.Value {
	if fp.method >= 0 {
		return obj.Addr().Method(fp.method).Call(nil)[0]
	}
	return obj.FieldByIndex(fp.index)
}
