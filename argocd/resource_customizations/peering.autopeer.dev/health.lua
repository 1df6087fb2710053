-- Argo CD health of peering.autopeer.dev resources, one script for both kinds (argocd-cm maps both keys to it).
-- PeeringRequest (the sessions asked of one peer network):
--   Healthy      the Ready condition is True (and nothing was refused)
--   Progressing  pending, requesting, waiting for approval, approved or requested (sessions being configured),
--                a status not yet written for this generation, or a deletion waiting for de-peering
--   Degraded     rejected (wholly or in part), expired (not established within the time window), failed (a
--                missing Secret, an unreachable peer), a session whose BGP went down, or a session another
--                request owns
-- PeeringSession (one BGP session):
--   Healthy      the Ready condition is True
--   Progressing  pending, approved or configured (waiting for a person, the router or BGP), a status not yet
--                written for this generation, or a deletion waiting for de-peering
--   Degraded     rejected, unestablished (not up within the time window), down, or BGP lost on our router
-- The message leads with the condition that is not True: "Ready False (SecretNotFound): Secret … does not exist".
-- Argo CD runs custom checks with the base, table and os libraries only: no string library here.
local request = obj.kind == "PeeringRequest"
local noun = request and "request" or "session"
local hs = { status = "Progressing", message = "Waiting for the operator to report on the " .. noun }

local function condition(conditions, kind)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

-- A condition in one line: its type, status and reason, then its message.
local function said(c)
  local text = (c.type or "?") .. " " .. (c.status or "?") .. " (" .. (c.reason or "no reason") .. ")"
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

-- The first condition that is not True, in the order given: what is wrong, or what is awaited.
local function failing(conditions, kinds)
  for _, kind in ipairs(kinds) do
    local c = condition(conditions, kind)
    if c ~= nil and c.status ~= "True" then
      return c
    end
  end
  return nil
end

local status = obj.status
if obj.metadata.deletionTimestamp ~= nil then
  local going = status ~= nil and condition(status.conditions, "Ready") or nil
  if going ~= nil and going.reason == "Deleting" then
    hs.message = said(going)
  else
    hs.message = request and "Being deleted: waiting for its sessions to be de-peered"
      or "Being deleted: waiting for de-peering to finish"
  end
  return hs
end
if status == nil then
  return hs
end
if obj.metadata.generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < obj.metadata.generation) then
  hs.message = "Waiting for the operator to observe generation " .. obj.metadata.generation
  return hs
end

local conditions = status.conditions
local ready = condition(conditions, "Ready")
-- Ready reasons that mean something broke rather than something is awaited.
local broken = { BgpDown = true, DuplicateSession = true, InvalidSpec = true }

-- A request is decided by its phase, a session by its state; either by a broken Ready.
local word, first, degraded
if request then
  word = status.phase
  first = failing(conditions, { "Ready", "Accepted", "Synced" })
  degraded = { Rejected = true, PartiallyRejected = true, Expired = true, Failed = true }
else
  word = status.state
  first = failing(conditions, { "Ready", "Established", "Configured", "Accepted", "Synced" })
  degraded = { rejected = true, unestablished = true, down = true }
end
local described = word ~= nil and ((request and "Request is " or "Session is ") .. word) or nil
local isBroken = ready ~= nil and ready.status ~= "True" and broken[ready.reason] == true
local isDegraded = (word ~= nil and degraded[word]) or isBroken

if not isDegraded and ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end

if isDegraded then
  hs.status = "Degraded"
  hs.message = (first ~= nil and said(first)) or status.stateReason or described
  -- Partly accepted: Accepted is True with the counts, and the peer's reason is in the list of rejections. Inbound
  -- rejections of input that did not parse name no session, so every part of one may be missing.
  local rejection = status.rejected ~= nil and status.rejected[1] or nil
  if word == "PartiallyRejected" and rejection ~= nil and not isBroken then
    local accepted = condition(conditions, "Accepted")
    local counts = (accepted ~= nil and said(accepted)) or "Accepted: some sessions were rejected"
    local which = rejection.field or "a session"
    if rejection.location ~= nil then
      which = rejection.location .. " " .. (rejection.localIp or "?") .. "-" .. (rejection.peerIp or "?")
    end
    hs.message = counts .. "; rejected: " .. which .. ": " .. (rejection.message or rejection.code or "no reason given")
  end
  return hs
end
-- pending, approved, configured; or established by the peer's account while our router has not seen BGP up yet.
hs.message = (first ~= nil and said(first)) or described or hs.message
-- Still progressing, but the last exchange with the peer failed (it is retried with backoff): show that too.
local synced = condition(conditions, "Synced")
if synced ~= nil and synced.status == "False" and first ~= synced then
  hs.message = hs.message .. "; " .. said(synced)
end
return hs
