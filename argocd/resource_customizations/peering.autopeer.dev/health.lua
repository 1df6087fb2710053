-- Argo CD health of peering.autopeer.dev resources, one script for both kinds (argocd-cm maps both keys to it).
-- PeeringRequest (the sessions asked of one peer network):
--   Healthy      the Ready condition is True
--   Progressing  pending, requesting, waiting for approval, approved or requested (sessions being configured),
--                a status not yet written for this generation, or a deletion waiting for de-peering
--   Degraded     rejected (wholly or in part), expired (not established within the time window) or failed,
--                with the condition's message
-- PeeringSession (one BGP session):
--   Healthy      the Ready condition is True
--   Progressing  pending, approved or configured (waiting for a person, the router or BGP), a status not yet
--                written for this generation, or a deletion waiting for de-peering
--   Degraded     rejected, unestablished (not up within the time window) or down, with the condition's message
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

-- The message of the first condition that is not True, in the order given: it says what is wrong.
local function explanation(conditions, kinds)
  for _, kind in ipairs(kinds) do
    local c = condition(conditions, kind)
    if c ~= nil and c.status ~= "True" and c.message ~= nil and c.message ~= "" then
      return c.message
    end
  end
  return nil
end

local status = obj.status
if obj.metadata.deletionTimestamp ~= nil then
  hs.message = request and "Being deleted: waiting for its sessions to be de-peered"
    or "Being deleted: waiting for de-peering to finish"
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
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end

-- A request is decided by its phase, a session by its state.
local word, why, degraded
if request then
  word = status.phase
  why = explanation(conditions, { "Accepted", "Ready", "Synced" })
  degraded = { Rejected = true, PartiallyRejected = true, Expired = true, Failed = true }
else
  word = status.state
  why = explanation(conditions, { "Ready", "Established", "Configured", "Accepted", "Synced" })
  degraded = { rejected = true, unestablished = true, down = true }
end
local described = word ~= nil and ((request and "Request is " or "Session is ") .. word) or nil

if word ~= nil and degraded[word] then
  hs.status = "Degraded"
  hs.message = why or status.stateReason or described
  -- Partly accepted: Accepted is True and only counts; the peer's reason is in the list of rejections. Inbound
  -- rejections of input that did not parse name no session, so every part of one may be missing.
  local first = status.rejected ~= nil and status.rejected[1] or nil
  if word == "PartiallyRejected" and first ~= nil then
    local accepted = condition(conditions, "Accepted")
    local counts = (accepted ~= nil and accepted.message) or "some sessions were rejected"
    local which = (first.location or "a session") .. " " .. (first.localIp or "") .. "-" .. (first.peerIp or "")
    hs.message = counts .. "; rejected: " .. which .. ": " .. (first.message or first.code or "no reason given")
  end
  return hs
end
-- pending, approved, configured; or established by the peer's account while our router has not seen BGP up yet.
hs.message = why or described or hs.message
-- Still progressing, but the last exchange with the peer failed (it is retried with backoff): show that too.
local synced = condition(conditions, "Synced")
if synced ~= nil and synced.status == "False" and synced.message ~= nil and synced.message ~= hs.message then
  hs.message = hs.message .. " (Synced: " .. synced.message .. ")"
end
return hs
