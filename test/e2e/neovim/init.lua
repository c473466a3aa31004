-- A headless Neovim (0.7: vim.lsp.start_client, no vim.lsp.start) that opens
-- one C file with the jailcheck language server over stdio, waits for the
-- first diagnostics of that file, asks for a hover, writes both to a JSON
-- file and quits. Driven by test/e2e/neovim.test.ts through the environment:
-- JAILCHECK_NODE, JAILCHECK_SERVER, JAILCHECK_FILE, JAILCHECK_OUT,
-- JAILCHECK_HOVER_LINE and JAILCHECK_HOVER_CHARACTER (0-based).
local file = os.getenv('JAILCHECK_FILE')
local out = os.getenv('JAILCHECK_OUT')

local function finish(result)
  local f = assert(io.open(out, 'w'))
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd('qa!')
end

-- Declared first: the handler below refers to it.
local client_id
-- The first publication is the one to report (the background simulation may publish again).
local reported = false
client_id = vim.lsp.start_client({
  name = 'jailcheck',
  cmd = { os.getenv('JAILCHECK_NODE'), os.getenv('JAILCHECK_SERVER'), '--stdio' },
  root_dir = vim.fn.fnamemodify(file, ':h'),
  init_options = { debounceMs = 0 },
  handlers = {
    ['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
      vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
      if result.uri ~= vim.uri_from_fname(file) or reported then return end
      reported = true
      -- Answered from the handler's own turn of the event loop: ask for a hover next.
      vim.schedule(function()
        local params = {
          textDocument = { uri = result.uri },
          position = { line = tonumber(os.getenv('JAILCHECK_HOVER_LINE')), character = tonumber(os.getenv('JAILCHECK_HOVER_CHARACTER')) },
        }
        local hover = vim.lsp.buf_request_sync(0, 'textDocument/hover', params, 10000)
        local answer = hover and hover[client_id] and hover[client_id].result or vim.NIL
        finish({ uri = result.uri, version = result.version, diagnostics = result.diagnostics, hover = answer })
      end)
    end,
  },
})

vim.cmd('edit ' .. vim.fn.fnameescape(file))
vim.lsp.buf_attach_client(0, client_id)
