# SPDX-License-Identifier: Apache-2.0
"""OA approvals (审批) in the DingTalk fake (reference/dingtalk.md §5.1): creating an instance, and
the bpms_instance_change events (type start / finish / terminate) pushed over Stream.

From the reference: POST /v1.0/workflow/processInstances (body, required fields, {"instanceId"},
error code processInstanceInvalidParameter) and the bpms_instance_change data fields.

Not in the reference; from DingTalk's public API docs as remembered, unconfirmed:
GET /v1.0/workflow/processInstances?processInstanceId= answering {"success": true, "result": {...}}
with title, originatorUserId, status (RUNNING / COMPLETED / TERMINATED), result ("agree" /
"refuse", "" while running), createTime / finishTime as "yyyy-MM-ddTHH:mmZ", formComponentValues
and tasks [{taskId (number), userId, status (RUNNING / COMPLETED / CANCELED), result (NONE / AGREE
/ REFUSE)}]; POST /v1.0/workflow/processInstances/execute with {processInstanceId, result
"agree"|"refuse", actionerUserId, taskId, remark} answering {"success": true, "result": true}; the
error codes taskNotFound and processInstanceNotFound; POST
/v1.0/workflow/processInstances/spaces/files/urls/download with {processInstanceId, fileId}
answering {"success": true, "result": {"downloadUri"}} for a file of the instance's attachments.
The attachment component's value (a JSON list of file objects {fileId, fileName, spaceId,
fileSize, fileType} in a DDAttachment field) is the fake's own choice."""

import json
import time
import uuid


def _iso(ms):
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(ms / 1000)) if ms else None


class WorkflowMixin:
    def _workflow_init(self, approver):
        self.approver = approver
        self.instances = {}          # processInstanceId -> instance (times in ms)
        self.created_instances = []  # instances created through the API, with the request body
        self.executions = []         # execute request bodies that were accepted
        self._next_task = 60000001

    def _workflow_routes(self):
        return [("POST", "/v1.0/workflow/processInstances", self._create, True),
                ("GET", "/v1.0/workflow/processInstances", self._get, True),
                ("POST", "/v1.0/workflow/processInstances/execute", self._execute, True),
                ("POST", "/v1.0/workflow/processInstances/spaces/files/urls/download",
                 self._attachment_url, True)]

    def _new_instance(self, process_code, originator, components, approvers, title):
        iid = str(uuid.uuid4())
        now = int(time.time() * 1000)
        tasks = []
        for user in approvers:
            tasks.append({"taskId": self._next_task, "userId": user, "status": "RUNNING",
                          "result": "NONE", "createTime": now, "finishTime": None})
            self._next_task += 1
        inst = {"processInstanceId": iid, "processCode": process_code,
                "title": title or "%s提交的%s" % (originator, process_code),
                "originatorUserId": originator, "formComponentValues": components,
                "status": "RUNNING", "result": "", "createTime": now, "finishTime": None,
                "businessId": now, "tasks": tasks}
        self.instances[iid] = inst
        self._bpms(inst, "start")
        return inst

    def _bpms(self, inst, kind):
        data = {"processInstanceId": inst["processInstanceId"], "processCode": inst["processCode"],
                "type": kind, "staffId": inst["originatorUserId"], "title": inst["title"],
                "createTime": inst["createTime"], "url": "%s/approvals/%s" % (self.base, inst["processInstanceId"]),
                "bizCategoryId": ""}
        if kind != "start":
            data["finishTime"] = inst["finishTime"]
        if kind == "finish":
            data["result"] = inst["result"]
        self.push_event("bpms_instance_change", data)

    def _finish(self, inst, result, actor=None):
        now = int(time.time() * 1000)
        for t in inst["tasks"]:
            if t["status"] == "RUNNING":
                done = actor is None or t["userId"] == actor
                t["status"] = "COMPLETED" if done else "CANCELED"
                t["result"] = result.upper() if done else "NONE"
                t["finishTime"] = now
                if done and actor is None:
                    actor = t["userId"]
        inst.update(status="COMPLETED", result=result, finishTime=now)
        self._bpms(inst, "finish")

    # -- control methods -------------------------------------------------------------------

    def start_instance(self, process_code, originator, form, files=None, title=None):
        """An instance started by a person in DingTalk (form: {label: value} or a list of
        {name, value, componentType}); pushes bpms_instance_change type start; returns its id."""
        if isinstance(form, dict):
            components = [{"name": k, "value": str(v), "componentType": "TextField"} for k, v in form.items()]
        else:
            components = [dict(c, componentType=c.get("componentType", "TextField")) for c in form]
        if files:
            components.append({"name": "附件", "value": json.dumps(files, ensure_ascii=False),
                               "componentType": "DDAttachment"})
        with self.lock:
            return self._new_instance(process_code, originator, components, [self.approver], title)["processInstanceId"]

    def finish_instance(self, instance_id, result):
        """The approver decides ("agree" / "refuse"); pushes bpms_instance_change type finish."""
        with self.lock:
            self._finish(self.instances[instance_id], result)

    def terminate_instance(self, instance_id):
        """The originator withdraws; pushes bpms_instance_change type terminate."""
        with self.lock:
            inst = self.instances[instance_id]
            for t in inst["tasks"]:
                if t["status"] == "RUNNING":
                    t["status"] = "CANCELED"
            inst.update(status="TERMINATED", finishTime=int(time.time() * 1000))
            self._bpms(inst, "terminate")

    # -- endpoints -------------------------------------------------------------------------

    def _create(self, req):
        b = req["json"] if isinstance(req["json"], dict) else {}
        forms = b.get("formComponentValues")
        approvers = b.get("approvers")
        problems = []
        if not isinstance(b.get("originatorUserId"), str) or not b["originatorUserId"]:
            problems.append("originatorUserId")
        if not isinstance(b.get("processCode"), str) or not b["processCode"]:
            problems.append("processCode")
        if "deptId" not in b and not approvers:
            problems.append("deptId or approvers")
        if not isinstance(forms, list) or not forms or len(forms) > 150 or not all(
                isinstance(f, dict) and isinstance(f.get("name"), str) and isinstance(f.get("value"), str)
                and len(f["value"]) <= 65535 for f in forms):
            problems.append("formComponentValues")
        users = []
        for a in approvers or []:
            if not isinstance(a, dict) or a.get("actionType") not in ("AND", "OR", "NONE") \
                    or not isinstance(a.get("userIds"), list) or not a["userIds"]:
                problems.append("approvers")
                break
            users += [u for u in a["userIds"] if u not in users]
        if problems:
            return 400, {"code": "processInstanceInvalidParameter",
                         "message": "missing or invalid: " + ", ".join(problems)}
        inst = self._new_instance(b["processCode"], b["originatorUserId"], forms,
                                  users or [self.approver], None)
        self.created_instances.append(dict(inst, request=b))
        return 200, {"instanceId": inst["processInstanceId"]}

    def _get(self, req):
        inst = self.instances.get(req["query"].get("processInstanceId", ""))
        if inst is None:
            return 404, {"code": "processInstanceNotFound", "message": "no such process instance"}
        result = {k: v for k, v in inst.items() if k != "tasks"}
        result.update(createTime=_iso(inst["createTime"]), finishTime=_iso(inst["finishTime"]),
                      businessId=str(inst["businessId"]),
                      tasks=[dict(t, createTime=_iso(t["createTime"]), finishTime=_iso(t["finishTime"]))
                             for t in inst["tasks"]])
        return 200, {"success": True, "result": result}

    def _execute(self, req):
        b = req["json"] if isinstance(req["json"], dict) else {}
        inst = self.instances.get(b.get("processInstanceId"))
        if inst is None:
            return 404, {"code": "processInstanceNotFound", "message": "no such process instance"}
        if b.get("result") not in ("agree", "refuse"):
            return 400, {"code": "processInstanceInvalidParameter", "message": "result must be agree or refuse"}
        task = next((t for t in inst["tasks"] if str(t["taskId"]) == str(b.get("taskId"))), None)
        if task is None or task["userId"] != b.get("actionerUserId") or task["status"] != "RUNNING":
            return 400, {"code": "taskNotFound", "message": "no running task of this user with this taskId"}
        self.executions.append(b)
        self._finish(inst, b["result"], actor=b["actionerUserId"])
        return 200, {"success": True, "result": True}

    def _attachment_url(self, req):
        """A download address for one file of an instance's attachments (add_file(fileId, bytes)
        gives it contents)."""
        b = req["json"] if isinstance(req["json"], dict) else {}
        inst = self.instances.get(b.get("processInstanceId"))
        if inst is None:
            return 404, {"code": "processInstanceNotFound", "message": "no such process instance"}
        ids = set()
        for c in inst["formComponentValues"]:
            if c.get("componentType") == "DDAttachment":
                ids.update(str(f.get("fileId")) for f in json.loads(c["value"]))
        if str(b.get("fileId")) not in ids or str(b.get("fileId")) not in self.files:
            return 400, {"code": "simulator.fileNotFound", "message": "no such attachment"}
        return 200, {"success": True, "result": {"downloadUri": "%s/files/%s" % (self.base, b["fileId"])}}
