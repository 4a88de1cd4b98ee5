package refserver

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/muster-test/muster-test/mocks/kvstore"
)

// The store tools, served with Config.Store to every tenant: notes and files that each
// user keeps and shares with other users by subject.
const (
	ToolCreateNote   = "create_note"
	ToolReadNote     = "read_note"
	ToolUpdateNote   = "update_note"
	ToolAppendNote   = "append_note"
	ToolDeleteNote   = "delete_note"
	ToolShareNote    = "share_note"
	ToolListNotes    = "list_notes"
	ToolUploadFile   = "upload_file"
	ToolDownloadFile = "download_file"
	ToolDeleteFile   = "delete_file"
	ToolShareFile    = "share_file"
	ToolListFiles    = "list_files"
)

// The store tools: the notes', the files', all.
var (
	NoteTools  = []string{ToolCreateNote, ToolReadNote, ToolUpdateNote, ToolAppendNote, ToolDeleteNote, ToolShareNote, ToolListNotes}
	FileTools  = []string{ToolUploadFile, ToolDownloadFile, ToolDeleteFile, ToolShareFile, ToolListFiles}
	StoreTools = slices.Concat(NoteTools, FileTools)
)

// shelves holds the users' notes and files.
type shelves struct {
	notes, files collection
}

func newShelves(faults Faults) *shelves {
	open := faults[FaultSharingNotEnforced]
	sh := &shelves{notes: collection{kind: "note", open: open}, files: collection{kind: "file", listed: []string{"name"}, open: open}}
	if faults[FaultLostAppend] {
		sh.notes.lossy = &appendWindow{}
	}
	return sh
}

// storeHandler is a store tool's work for the caller, whose subject comes from the token.
type storeHandler func(subject string, r mcp.CallToolRequest) (any, error)

// storeTool serves h: a refusal or a missing argument is a tool error, the answer JSON.
func storeTool(tool mcp.Tool, h storeHandler) server.ServerTool {
	return server.ServerTool{Tool: tool, Handler: func(ctx context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		out, err := h(requestFrom(ctx).caller.Subject, r)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		return jsonResult(out)
	}}
}

func (s *Server) storeTools() []server.ServerTool {
	n, f := &s.shelves.notes, &s.shelves.files
	id := mcp.WithString("id", mcp.Required(), mcp.Description("the id its creation answered"))
	text := mcp.WithString("text", mcp.Required(), mcp.Description("the note's text"))
	version := func(desc string, opts ...mcp.PropertyOption) mcp.ToolOption {
		return mcp.WithNumber("version", append(opts, mcp.Description(desc))...)
	}
	return []server.ServerTool{
		storeTool(mcp.NewTool(ToolCreateNote, mcp.WithDescription("Create a note owned by the caller; answers its id and version 1"), text),
			func(sub string, r mcp.CallToolRequest) (any, error) {
				v, err := fields(r, "text")
				if err != nil {
					return nil, err
				}
				return n.create(sub, v), nil
			}),
		storeTool(mcp.NewTool(ToolReadNote, mcp.WithDescription("Read a note the caller owns or that was shared with it: text, version, owner"), id),
			func(sub string, r mcp.CallToolRequest) (any, error) {
				return withID(r, func(k string) (any, error) { return n.read(sub, k) })
			}),
		storeTool(mcp.NewTool(ToolUpdateNote, mcp.WithDescription("Replace a note's text (its owner, or a user it was shared with to edit), "+
			"if the note is still at the version the caller read: a write from an older version is refused as a version conflict"),
			id, text, version("the version the new text is based on", mcp.Required())),
			func(sub string, r mcp.CallToolRequest) (any, error) {
				v, err := fields(r, "text")
				if err != nil {
					return nil, err
				}
				at, err := r.RequireInt("version")
				if err != nil {
					return nil, err
				}
				return withID(r, func(k string) (any, error) { return n.write(sub, k, v, int64(at)) })
			}),
		storeTool(mcp.NewTool(ToolAppendNote, mcp.WithDescription("Add text to the end of a note (its owner, or a user it was shared with to edit), "+
			"atomically and whatever its version: appends made at the same time all land; answers the new version and the text's length"),
			id, mcp.WithString("text", mcp.Required(), mcp.Description("the text to add, as it is (a new line starts with \\n)"))),
			func(sub string, r mcp.CallToolRequest) (any, error) {
				v, err := r.RequireString("text")
				if err != nil {
					return nil, err
				}
				return withID(r, func(k string) (any, error) { return n.appendText(sub, k, "text", v) })
			}),
		storeTool(mcp.NewTool(ToolDeleteNote, mcp.WithDescription("Delete a note (its owner only); with version, only if it is still at it"),
			id, version("delete only at this version (absent: whatever its version)")), deleteHandler(n)),
		storeTool(mcp.NewTool(ToolShareNote, mcp.WithDescription("Share a note the caller owns with another user, to read or to read and edit"),
			id, with("note"), mcp.WithString("permission", mcp.Enum(PermissionRead, PermissionEdit), mcp.DefaultString(PermissionRead),
				mcp.Description("read (default) or edit"))), shareHandler(n, PermissionRead, PermissionEdit)),
		storeTool(mcp.NewTool(ToolListNotes, mcp.WithDescription("The notes the caller owns or that were shared with it: id, owner, permission, version")),
			listHandler(n, "notes")),
		storeTool(mcp.NewTool(ToolUploadFile, mcp.WithDescription("Upload a file owned by the caller; answers its id, name and size"),
			mcp.WithString("name", mcp.Required(), mcp.Description("file name")),
			mcp.WithString("content", mcp.Required(), mcp.Description("file content"))),
			func(sub string, r mcp.CallToolRequest) (any, error) {
				v, err := fields(r, "name", "content")
				if err != nil {
					return nil, err
				}
				v["size"] = len(v["content"].(string))
				out := f.create(sub, v)
				delete(out, "content")
				return out, nil
			}),
		storeTool(mcp.NewTool(ToolDownloadFile, mcp.WithDescription("Download a file the caller owns or that was shared with it: name, content, size, owner"), id),
			func(sub string, r mcp.CallToolRequest) (any, error) {
				return withID(r, func(k string) (any, error) { return f.read(sub, k) })
			}),
		storeTool(mcp.NewTool(ToolDeleteFile, mcp.WithDescription("Delete a file (its owner only)"), id), deleteHandler(f)),
		storeTool(mcp.NewTool(ToolShareFile, mcp.WithDescription("Share a file the caller owns with another user, to download"),
			id, with("file")), shareHandler(f, PermissionRead)),
		storeTool(mcp.NewTool(ToolListFiles, mcp.WithDescription("The files the caller owns or that were shared with it: id, name, owner, permission")),
			listHandler(f, "files")),
	}
}

func with(kind string) mcp.ToolOption {
	return mcp.WithString("with", mcp.Required(), mcp.Description("the subject of the user to share the "+kind+" with"))
}

// fields are the call's string arguments of these names, all required: an entry's value.
func fields(r mcp.CallToolRequest, names ...string) (map[string]any, error) {
	out := map[string]any{}
	for _, name := range names {
		v, err := r.RequireString(name)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// withID runs do with the call's id argument.
func withID(r mcp.CallToolRequest, do func(id string) (any, error)) (any, error) {
	id, err := r.RequireString("id")
	if err != nil {
		return nil, err
	}
	return do(id)
}

func deleteHandler(c *collection) storeHandler {
	return func(sub string, r mcp.CallToolRequest) (any, error) {
		var cond kvstore.Cond
		if _, given := r.GetArguments()["version"]; given {
			v, err := r.RequireInt("version")
			if err != nil {
				return nil, err
			}
			cond = kvstore.At(int64(v))
		}
		return withID(r, func(k string) (any, error) { return c.remove(sub, k, cond) })
	}
}

// shareHandler shares with the permission the call names, the first of perms by default.
func shareHandler(c *collection, perms ...string) storeHandler {
	return func(sub string, r mcp.CallToolRequest) (any, error) {
		to, err := r.RequireString("with")
		if err != nil {
			return nil, err
		}
		perm := r.GetString("permission", perms[0])
		if !slices.Contains(perms, perm) {
			return nil, fmt.Errorf("permission %q: want %s", perm, strings.Join(perms, " or "))
		}
		return withID(r, func(k string) (any, error) { return c.share(sub, k, to, perm) })
	}
}

func listHandler(c *collection, field string) storeHandler {
	return func(sub string, _ mcp.CallToolRequest) (any, error) {
		items := c.list(sub)
		return map[string]any{field: items, "count": len(items), "user": sub}, nil
	}
}
