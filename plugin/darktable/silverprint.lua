--[[
    This file is part of Silverprint.

    Copyright (c) 2026 the Silverprint authors. MIT licence: permission is hereby granted, free of
    charge, to any person obtaining a copy of this software, to deal in the software without
    restriction, provided this notice is kept. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY
    OF ANY KIND.
]]
--[[
    silverprint.lua - black-and-white conversion with Silverprint

    Sends images to the local Silverprint service and writes the black-and-white result next to
    the original under a new name (NAME_silverprint-STYLE.tif), imports it and groups it with the
    original; the original's tags are copied to it. With the Silverprint companion open, the
    companion shows the image so that you choose and adjust the style (Apply / Cancel); otherwise
    the style chosen here (empty: Silverprint's default style) is applied at once.

    ADDITIONAL SOFTWARE NEEDED FOR THIS SCRIPT
    * Silverprint (`silverprint serve`, or the companion `silverprint gui`, running on this machine)
    * curl

    USAGE
    1. `silverprint install-plugins darktable` (copies this script and adds it to luarc)
    2. start `silverprint serve` (or open the companion)
    3. in lighttable, select images, then either
       - export with the target storage "Silverprint B&W" (the result has the format picked there), or
       - press "convert selected" in the Silverprint module (right panel)

    CAVEATS
    * Linux and macOS (the service is reached with curl through a POSIX shell).
    * Waits at most CONNECT_TIMEOUT s to reach the service, RENDER_TIMEOUT s per render and
      INTERACTIVE_TIMEOUT s for an answer in the companion; after that the image is left untouched.

    BUGS, COMMENTS, SUGGESTIONS
    * https://github.com/silverprint/silverprint/issues
]]

local dt = require "darktable"

local MODULE_NAME = "silverprint"
local STORAGE_ID = MODULE_NAME
local CONNECT_TIMEOUT = 5
local RENDER_TIMEOUT = 300
local INTERACTIVE_TIMEOUT = 15 * 60
local POLL_WAIT = 20
local DEFAULT_URL = "http://127.0.0.1:47810"
local START_HINT = "start it with `silverprint serve` or open the Silverprint companion"

local function _(msg)
  local ok, text = pcall(function() return dt.gettext.gettext(msg) end)
  return ok and text or msg
end

-- the API check of lua-scripts' du.check_min_api_version, inline (lib/dtutils is not always there)
local function check_min_api_version(min_api, script_name)
  local function parts(v)
    local a, b, c = v:match("^(%d+)%.(%d+)%.(%d+)")
    return tonumber(a) or 0, tonumber(b) or 0, tonumber(c) or 0
  end
  local have = dt.configuration.api_version_string
  local h1, h2, h3 = parts(have)
  local m1, m2, m3 = parts(min_api)
  if h1 < m1 or (h1 == m1 and (h2 < m2 or (h2 == m2 and h3 < m3))) then
    dt.print(string.format(_("%s failed to load: darktable is too old"), script_name))
    dt.print_error(string.format("%s needs Lua API %s, darktable has %s", script_name, min_api, have))
    error(string.format("%s: Lua API %s too old", script_name, have), 0)
  end
end

check_min_api_version("7.0.0", MODULE_NAME)

local script_data = {}

script_data.metadata = {
  name = "silverprint",
  purpose = _("black and white conversion with Silverprint"),
  author = "Silverprint authors",
  help = "https://github.com/silverprint/silverprint"
}

script_data.destroy = nil
script_data.destroy_method = nil
script_data.restart = nil
script_data.show = nil

local sp = {
  storage_registered = false,
  lib_installed = false,
  event_registered = false,
  widgets = {},
}

local has_gui = dt.configuration.has_gui

------------------------------------------------------------------------------------------------
-- small helpers
------------------------------------------------------------------------------------------------

local function log(msg) dt.print_log(MODULE_NAME .. ": " .. msg) end

local function tell(msg)  -- the user sees this (a toast in the GUI, the terminal otherwise)
  if has_gui then dt.print(msg) else io.stderr:write(msg, "\n") end
  log(msg)
end

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function getenv(name)
  local v = os.getenv(name)
  if v == nil or v == "" then return nil end
  return v
end

local function basename(path) return (path:gsub("^.*/", "")) end
local function stem(name) return (name:gsub("%.[^.]*$", "")) end

local function sanitize(text)  -- safe in a file name and in a URL query
  return (tostring(text):gsub("[^%w%-_%.]", "-"))
end

local function pref(name, default)
  if not has_gui then return default end
  local value = dt.preferences.read(MODULE_NAME, name, "string")
  if value == nil or value == "" then return default end
  return value
end

------------------------------------------------------------------------------------------------
-- the Silverprint service: every request goes through this section
------------------------------------------------------------------------------------------------

local service = {}

-- silverprint's config folder, resolved as silverprint.paths.config_dir does
function service.config_dir()
  local home = getenv("SILVERPRINT_HOME")
  if home then return home .. "/config" end
  if dt.configuration.running_os == "macos" then
    return os.getenv("HOME") .. "/Library/Application Support/silverprint"
  end
  return (getenv("XDG_CONFIG_HOME") or (os.getenv("HOME") .. "/.config")) .. "/silverprint"
end

function service.url()
  local env = getenv("SILVERPRINT_URL")
  if env then return (env:gsub("/+$", "")) end
  local info = read_file(service.config_dir() .. "/service.json")
  if info then
    local url = info:match('"url"%s*:%s*"([^"]+)"')
    local pid = info:match('"pid"%s*:%s*(%d+)')
    -- a service.json left by a service that has gone is ignored (Linux: /proc; elsewhere: trusted)
    if url and (not pid or not exists("/proc/self") or exists("/proc/" .. pid)) then
      return (url:gsub("/+$", ""))
    end
  end
  return DEFAULT_URL
end

function service.token()
  local env = getenv("SILVERPRINT_TOKEN")
  if env then return env end
  local text = read_file(service.config_dir() .. "/token")
  return text and (text:gsub("%s+", "")) or nil
end

-- run curl; returns http status (0 when no answer), the response body and curl's exit code
function service.request(method, path, opts)
  opts = opts or {}
  local token = service.token()
  if not token then
    return nil, nil, nil, string.format(_("Silverprint has never run on this account (no token in %s); %s"),
                                        service.config_dir(), START_HINT)
  end
  local header = os.tmpname()      -- mkstemp: mode 0600, the token never shows in `ps`
  local fh = io.open(header, "w")
  fh:write("Authorization: Bearer " .. token .. "\n")
  fh:close()
  local body_out = opts.out or os.tmpname()
  local code_file = os.tmpname()
  local url = service.url()
  local cmd = table.concat({
    "curl", "-sS", "-X", method,
    "--connect-timeout", tostring(CONNECT_TIMEOUT), "--max-time", tostring(opts.timeout or RENDER_TIMEOUT),
    "-H", quote("@" .. header), "-o", quote(body_out), "-w", quote("%{http_code}"),
    opts.upload and ("-H 'Content-Type: application/octet-stream' --data-binary " .. quote("@" .. opts.upload)) or "",
    quote(url .. "/v1" .. path), ">", quote(code_file), "2>/dev/null"
  }, " ")
  local status = dt.control.execute(cmd)
  if status and status > 255 then status = status // 256 end   -- raw wait status in darktable 4.2
  os.remove(header)
  local http = tonumber(read_file(code_file) or "") or 0
  os.remove(code_file)
  local body = nil
  if not opts.out then
    body = read_file(body_out)
    os.remove(body_out)
  end
  if status == 7 or (http == 0 and status ~= 28) then
    return nil, nil, status, string.format(_("Silverprint is not running (nothing answers at %s); %s"),
                                           url, START_HINT)
  elseif status == 28 then
    return nil, nil, status, string.format(_("Silverprint did not answer within %d s; the image is unchanged"),
                                           opts.timeout or RENDER_TIMEOUT)
  end
  return http, body, status, nil
end

local function json_field(body, key)
  if not body then return nil end
  return body:match('"' .. key .. '"%s*:%s*"([^"]*)"')
end

local function detail(http, body)
  return json_field(body, "detail") or string.format("error %s", tostring(http))
end

-- hand an exported file to the service and wait; returns (result file, style) or nil, message
function service.convert(exported, name, style, out_file, format)
  local query = "host=darktable&format=" .. (format or "tiff16") .. "&mode=auto&name=" .. sanitize(name)
  if style and style ~= "" then query = query .. "&style=" .. sanitize(style) end
  local http, body, _status, err = service.request("POST", "/sessions?" .. query,
                                             {upload = exported, timeout = RENDER_TIMEOUT})
  if err then return nil, err end
  if http ~= 201 then return nil, "Silverprint: " .. detail(http, body) end
  local sid = json_field(body, "id")
  local state = json_field(body, "state")
  local waited = 0
  local result, message = nil, nil
  while state == "pending" or state == "open" do
    if waited > INTERACTIVE_TIMEOUT then
      service.request("POST", "/sessions/" .. sid .. "/cancel", {timeout = CONNECT_TIMEOUT})
      message = string.format(_("no answer from the Silverprint companion within %d min; the image is unchanged"),
                              INTERACTIVE_TIMEOUT // 60)
      break
    end
    local t0 = os.time()
    http, body, _status, err = service.request("GET", "/sessions/" .. sid .. "?wait=" .. POLL_WAIT,
                                         {timeout = POLL_WAIT + RENDER_TIMEOUT})
    if err then message = err break end
    if http ~= 200 then message = "Silverprint: " .. detail(http, body) break end
    state = json_field(body, "state")
    waited = waited + math.max(1, os.time() - t0)
  end
  if not message then
    if state == "applied" then
      style = json_field(body, "style") or style or "silverprint"
      local h, _body, _st, e = service.request("GET", "/sessions/" .. sid .. "/result",
                                         {out = out_file, timeout = RENDER_TIMEOUT})
      if e then message = e
      elseif h ~= 200 then os.remove(out_file) message = "Silverprint: " .. detail(h, read_file(out_file))
      else result = out_file end
    elseif state == "cancelled" then
      message = _("Silverprint: cancelled; the image is unchanged")
    else
      message = "Silverprint: " .. (json_field(body, "message") or tostring(state))
    end
  end
  service.request("DELETE", "/sessions/" .. sid, {timeout = CONNECT_TIMEOUT})
  return result, message, style
end

------------------------------------------------------------------------------------------------
-- darktable side: write next to the original, import, group, keep tags
------------------------------------------------------------------------------------------------

local function free_name(dir, base, ext)
  local candidate = dir .. "/" .. base .. ext
  local n = 1
  while exists(candidate) do
    candidate = string.format("%s/%s_%d%s", dir, base, n, ext)
    n = n + 1
  end
  return candidate
end

local function copy_tags(from, to, style)
  for _i, tag in ipairs(dt.tags.get_tags(from)) do
    if not tostring(tag.name):match("^darktable|") then
      dt.tags.attach(tag, to)
    end
  end
  dt.tags.attach(dt.tags.create("silverprint|" .. style), to)
end

-- The file the user picked in the export module -> the service's output format and its suffix.
-- Silverprint writes 16-bit PNG and TIFF and 8-bit JPEG; WebP (which it reads) comes back as PNG.
local OUTPUT = {tif = {"tiff16", ".tif"}, tiff = {"tiff16", ".tif"}, png = {"png16", ".png"},
                jpg = {"jpeg", ".jpg"}, jpeg = {"jpeg", ".jpg"}, webp = {"png16", ".png"}}

-- convert one image whose developed pixels darktable exported to `exported` (whose suffix says the
-- format to write: see OUTPUT); returns the new image
local function convert_image(image, exported, style)
  local dir = image.path
  local output = OUTPUT[(tostring(exported):match("%.([^./]+)$") or ""):lower()] or OUTPUT.tif
  local part = free_name(dir, "." .. stem(image.filename) .. "_silverprint", ".part")
  local result, message, used_style = service.convert(exported, image.filename, style, part, output[1])
  if not result then
    os.remove(part)
    tell(message)
    return nil, message
  end
  local final = free_name(dir, stem(image.filename) .. "_silverprint-" .. sanitize(used_style), output[2])
  local ok, err = os.rename(part, final)
  if not ok then
    os.remove(part)
    tell(string.format(_("Silverprint: could not write %s (%s)"), final, tostring(err)))
    return nil, err
  end
  local new = dt.database.import(final)
  if not new then
    tell(string.format(_("Silverprint: darktable could not import %s"), final))
    return nil, "import failed"
  end
  new:group_with(image.group_leader or image)
  copy_tags(image, new, used_style)
  tell(string.format(_("Silverprint: %s → %s"), image.filename, basename(final)))
  return new
end

------------------------------------------------------------------------------------------------
-- the export target and the lighttable module
------------------------------------------------------------------------------------------------

local function current_style()
  local entry = sp.widgets.storage_entry
  if entry and entry.text and entry.text ~= "" then
    dt.preferences.write(MODULE_NAME, "style", "string", entry.text)
    return entry.text
  end
  return pref("style", "")
end

local function store(storage, image, format, filename, number, total, high_quality, extra_data)
  local ext = tostring(filename):match("%.([^./]+)$") or ""
  if not OUTPUT[ext:lower()] then
    tell(string.format(_("Silverprint: choose TIFF, PNG, JPEG or WebP as the export format (not %s)"), ext))
  else
    dt.print(string.format(_("Silverprint: converting image %d/%d"), number, total))
    convert_image(image, filename, current_style())
  end
  os.remove(filename)
end

local function convert_selected()
  local images = dt.gui.action_images
  if #images == 0 then
    dt.print(_("please select an image"))
    return
  end
  local format = dt.new_format("tiff")
  format.bpp = 16
  for i, image in ipairs(images) do
    dt.print(string.format(_("Silverprint: converting image %d/%d"), i, #images))
    local tmp = os.tmpname() .. ".tif"
    format:write_image(image, tmp)   -- returns false on success in 4.2: check the file instead
    if exists(tmp) then
      convert_image(image, tmp, pref("style", ""))
      os.remove(tmp)
    else
      tell(string.format(_("Silverprint: could not export %s"), image.filename))
    end
  end
end

-- The style text box of the lighttable module and of the export target: same preference, own tooltip.
local function style_entry(tooltip)
  return dt.new_widget("entry") {
    text = pref("style", ""),
    placeholder = _("default style"),
    tooltip = tooltip,
    editable = true,
  }
end

local function install_gui()
  if not has_gui or sp.lib_installed then return end
  dt.preferences.register(MODULE_NAME, "style", "string", _("Silverprint: style"),
                          _("style applied when the companion is not open (empty: the default style)"), "")
  local entry = style_entry(_("Silverprint style (empty: the companion's choice, else the default style)"))
  sp.widgets.entry = entry
  local button = dt.new_widget("button") {
    label = _("convert selected"),
    tooltip = _("black and white with Silverprint; the result is grouped with the original"),
    clicked_callback = function()
      dt.preferences.write(MODULE_NAME, "style", "string", entry.text)
      convert_selected()
    end
  }
  dt.register_lib(MODULE_NAME, _("Silverprint B&W"), true, false,
                  {[dt.gui.views.lighttable] = {"DT_UI_CONTAINER_PANEL_RIGHT_CENTER", 100}},
                  dt.new_widget("box") { orientation = "vertical", entry, button })
  sp.lib_installed = true
end

local function storage_widget()
  -- darktable's export module shows the storage's widget: a storage without one crashes it (4.2)
  if not has_gui then return nil end
  local entry = style_entry(_("Silverprint style when the companion is not open (empty: the default style)"))
  sp.widgets.storage_entry = entry
  return dt.new_widget("box") {
    orientation = "vertical",
    dt.new_widget("label") { label = _("style (the companion, when open, lets you choose)") },
    entry,
  }
end

local function register_storage()
  if sp.storage_registered then return end
  -- no `supported` callback: `store` tells the user when the chosen format is one Silverprint
  -- cannot read
  dt.register_storage(STORAGE_ID, _("Silverprint B&W"), store, nil, nil, nil, storage_widget())
  sp.storage_registered = true
end

-- With the GUI, register once lighttable is up (as lua-scripts' ext_editor installs its lib).
local function install_all()
  register_storage()
  install_gui()
end

if not has_gui or dt.gui.current_view().id == "lighttable" then
  install_all()
else
  dt.register_event(MODULE_NAME, "view-changed", function(event, old_view, new_view)
    if new_view.id == "lighttable" and not sp.storage_registered then
      install_all()
    end
  end)
  sp.event_registered = true
end

local function destroy()
  if sp.storage_registered then
    dt.destroy_storage(STORAGE_ID)
    sp.storage_registered = false
  end
  if sp.lib_installed then
    dt.gui.libs[MODULE_NAME].visible = false
  end
end

local function restart()
  register_storage()
  if sp.lib_installed then
    dt.gui.libs[MODULE_NAME].visible = true
  else
    install_gui()
  end
end

script_data.destroy = destroy
script_data.destroy_method = "hide"
script_data.restart = restart
script_data.show = restart

-- for scripts and tests: convert an image already exported to a file (used by the CLI path)
script_data.silverprint = {convert_image = convert_image, convert_selected = convert_selected,
                           store = store, service = service}

return script_data
