#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Reproducible synthetic chat corpora for Barra (fixed seed, no network, standard library only).

  corpus.py eval  [--seed N] [--records N]   labelled JSON Lines: {"id","text","entities":[...]}
  corpus.py chat  [--seed N] [--megabytes N] [--pii-share F]   plain chat text, one message a line
  corpus.py jsonl [--seed N] [--megabytes N] [--pii-share F]   the same as JSON Lines {"id","text"}

Entities carry "type", "start" and "end" (UTF-8 byte offsets into "text"). The corpus mixes
Traditional and Simplified Chinese, English and Portuguese, values with and without context words,
the ways people type them (separators, full-width forms, brackets, glued to Chinese), and hard
negatives: near-miss checksums, order/invoice/tracking numbers, amounts, times, versions.
"""

import argparse
import json
import random
import sys

import pii

# ---------------------------------------------------------------------------------------------
# Values: each generator returns (text, type) or None; variants cover how people write them.

def fmt_id18(rng, v):
    r = rng.random()
    if r < 0.12:
        return v[:6] + " " + v[6:14] + " " + v[14:]
    if r < 0.18:
        return v[:-1] + v[-1].lower() if v[-1] == "X" else v
    if r < 0.26:
        return pii.fullwidth(v)
    return v


def v_cn_resident_id(rng):
    r = rng.random()
    if r < 0.08:
        return fmt_id18(rng, pii.cn_residence_permit(rng, rng.choice(["810000", "820000", "830000"])))
    if r < 0.12:
        y, m, d = pii.random_birth(rng, 2014, 2020)
        return pii.cn_resident_id(rng, birth=(y, m, d))
    return fmt_id18(rng, pii.cn_resident_id(rng))


def v_hk_id_card(rng):
    letters, digits, check = pii.hkid(rng)
    r = rng.random()
    if r < 0.55:
        return "%s%s(%s)" % (letters, digits, check)
    if r < 0.7:
        return "%s%s (%s)" % (letters, digits, check)
    if r < 0.8:
        return pii.fullwidth("%s%s(%s)" % (letters, digits, check))
    return "%s%s%s" % (letters, digits, check)


def v_mo_id_card(rng):
    first = rng.choice("157")
    body = first + "%06d" % rng.randint(0, 999999)
    check = str(rng.randint(0, 9))
    r = rng.random()
    if r < 0.6:
        return "%s(%s)" % (body, check)
    if r < 0.75:
        return "%s/%s/%s" % (body[0], body[1:], check)
    if r < 0.85:
        return pii.fullwidth("%s(%s)" % (body, check))
    return body + check  # bare: only with a keyword


def v_tw_id_card(rng):
    return pii.tw_id(rng, rng.choice("1212129"))


def v_hrp(rng):
    return rng.choice("HM") + "%08d" % rng.randint(0, 99999999) + ("%02d" % rng.randint(0, 5) if rng.random() < 0.3 else "")


def v_eep(rng):
    if rng.random() < 0.5:
        return "C%08d" % rng.randint(0, 99999999)
    return "C" + rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + "%07d" % rng.randint(0, 9999999)


def v_tw_compat(rng):
    return "%08d" % rng.randint(0, 99999999)


def v_cn_passport(rng):
    if rng.random() < 0.6:
        return "E%08d" % rng.randint(0, 99999999)
    return "E" + rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + "%07d" % rng.randint(0, 9999999)


def v_hk_passport(rng):
    return "K%08d" % rng.randint(0, 99999999)


def v_mo_passport(rng):
    return "MA%07d" % rng.randint(0, 9999999)


def v_mo_worker(rng):
    return "%08d" % rng.randint(0, 99999999)


def v_uscc(rng):
    return pii.uscc(rng, rng.choice(["91", "91", "92", "52"]), letters=rng.random() < 0.5)


def v_card(rng):
    c = pii.card(rng)
    r = rng.random()
    if r < 0.35:
        return " ".join(c[i:i + 4] for i in range(0, len(c), 4))
    if r < 0.4:
        return pii.fullwidth(c)
    return c


def v_bank_account(rng):
    r = rng.random()
    if r < 0.5:
        return "%03d-%06d-%03d" % (rng.randint(0, 999), rng.randint(0, 999999), rng.randint(0, 999))
    return "%d" % rng.randint(10 ** 9, 10 ** 12)


def v_phone_cn(rng):
    m = pii.cn_mobile(rng)
    r = rng.random()
    if r < 0.2:
        return "+86 " + m
    if r < 0.35:
        return m[:3] + "-" + m[3:7] + "-" + m[7:]
    if r < 0.45:
        return m[:3] + " " + m[3:7] + " " + m[7:]
    if r < 0.5:
        return pii.fullwidth(m)
    return m


def v_phone_hk(rng):
    r = rng.random()
    n = pii.hk_mobile(rng, shared_ok=r < 0.5) if rng.random() < 0.7 else pii.hk_fixed(rng)
    if r < 0.4:
        return "+852 " + n[:4] + " " + n[4:]
    if r < 0.5:
        return "(852) " + n
    if r < 0.75:
        return n[:4] + " " + n[4:]
    return n


def v_phone_mo(rng):
    n = pii.mo_mobile(rng) if rng.random() < 0.75 else pii.mo_fixed(rng)
    r = rng.random()
    if r < 0.4:
        return "+853 " + n[:4] + " " + n[4:]
    if r < 0.5:
        return "(853)" + n
    if r < 0.75:
        return n[:4] + " " + n[4:]
    return n


NAMES = ["chan.taiman", "wong", "joao.silva", "lei.ka.man", "zhang.wei", "maria", "ho.sio.kuan",
         "li_na", "ctm2024", "alex.lam", "sales", "kiki"]
DOMAINS = ["example.com.hk", "example.mo", "qq.com", "163.com", "example.com", "mail.example.cn",
           "macau.example.org", "gmail.com"]


def v_email(rng):
    local = rng.choice(NAMES)
    if local == "ctm2024" or rng.random() < 0.2:
        local = str(rng.randint(10000, 999999999))
    return local + "@" + rng.choice(DOMAINS)


def v_plate(rng):
    r = rng.random()
    if r < 0.45:
        return "M" + rng.choice("ABCDEFGHJKLMNPQRSTUWXZ") + "-%02d-%02d" % (rng.randint(0, 99), rng.randint(0, 99))
    if r < 0.85:
        tail = [rng.choice("0123456789") for _ in range(5)]
        for i in rng.sample(range(5), rng.randint(0, 2)):
            tail[i] = rng.choice("ABCDEFGHJK")
        return rng.choice("京沪粤粤粤浙苏闽川鄂") + rng.choice("ABCDEFGHJKL") + "".join(tail)
    tail = [rng.choice("0123456789") for _ in range(4)]
    tail[rng.randint(0, 3)] = rng.choice("ABCDE")
    return "粤Z" + "".join(tail) + rng.choice("港澳")


MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTHS_PT = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
             "setembro", "outubro", "novembro", "dezembro"]


def v_dob(rng):
    y, m, d = pii.random_birth(rng, 1950, 2012)
    r = rng.random()
    if r < 0.3:
        return "%04d-%02d-%02d" % (y, m, d)
    if r < 0.5:
        return "%02d/%02d/%04d" % (d, m, y)
    if r < 0.7:
        return "%d年%d月%d日" % (y, m, d)
    if r < 0.8:
        return "%d %s %d" % (d, MONTHS_EN[m - 1], y)
    if r < 0.9:
        return "%d de %s de %d" % (d, MONTHS_PT[m - 1], y)
    return "%04d/%d/%d" % (y, m, d)


# (value generator, [templates with context], [templates without], needs context)
CTX = {
    "cn_resident_id": (v_cn_resident_id,
        ["身份证号码：{v}", "请核对身份证{v}是否正确", "身份證號碼 {v}", "员工身份证号 {v}，已入职",
         "PRC ID number: {v}", "ID card no. {v} attached", "居民身份证 {v} 复印件在附件",
         "n.º de identificação {v}", "居住证号码{v}"],
        ["{v}", "麻烦查一下{v}", "pls check {v} thx", "收到，{v}"], False),
    "hk_id_card": (v_hk_id_card,
        ["香港身份證號碼：{v}", "HKID {v}", "身份證 {v} 影印本已收", "Hong Kong ID: {v}",
         "佢嘅身份證係{v}", "BI de Hong Kong {v}"],
        ["{v}", "核對 {v}", "number {v} ok?"], False),
    "mo_id_card": (v_mo_id_card,
        ["澳門身份證 {v}", "澳門居民身份證號碼：{v}", "BIR n.º {v}", "Macau ID {v}",
         "身份證號碼 {v}（澳門）", "número do BIR: {v}"],
        [], True),
    "tw_id_card": (v_tw_id_card,
        ["身分證字號：{v}", "台灣身分證 {v}", "Taiwan ID {v}", "統一證號 {v}"],
        ["{v}", "資料 {v}"], False),
    "hkmo_home_return_permit": (v_hrp,
        ["回鄉證號碼 {v}", "回乡证：{v}", "Home Return Permit {v}", "港澳居民來往內地通行證 {v}"],
        [], True),
    "cn_exit_entry_permit": (v_eep,
        ["往来港澳通行证 {v}", "港澳通行证号码：{v}", "双程证{v}", "Exit-Entry Permit no. {v}"],
        [], True),
    "tw_compatriot_permit": (v_tw_compat,
        ["台胞证号码 {v}", "台胞證：{v}", "MTP {v}"], [], True),
    "cn_passport": (v_cn_passport,
        ["护照号码 {v}", "護照 {v}", "passport no. {v}", "passaporte {v}"], [], True),
    "hk_passport": (v_hk_passport,
        ["香港護照 {v}", "HKSAR passport {v}", "特區護照號碼 {v}"], [], True),
    "mo_passport": (v_mo_passport,
        ["澳門護照 {v}", "passaporte da RAEM {v}", "Macau passport {v}"], [], True),
    "mo_worker_card": (v_mo_worker,
        ["外僱藍卡號碼 {v}", "藍卡 {v}", "TI/TNR n.º {v}", "blue card no. {v}"], [], True),
    "cn_uscc": (v_uscc,
        ["统一社会信用代码：{v}", "營業執照 {v}", "USCC {v}", "税号 {v}"], ["{v}"], False),
    "bank_card": (v_card,
        ["卡号 {v}", "银行卡号：{v}", "信用卡 {v}", "card number {v}", "cartão de crédito {v}",
         "轉賬去 {v}"],
        ["{v}", "pls transfer to {v}"], False),
    "bank_account": (v_bank_account,
        ["銀行戶口號碼 {v}", "账号：{v}", "account no. {v}", "número de conta {v}", "帳號 {v}"],
        [], True),
    "phone_cn": (v_phone_cn,
        ["手机 {v}", "电话：{v}", "联系电话{v}", "call me at {v}", "微信同号{v}"], ["{v}"], False),
    "phone_hk": (v_phone_hk,
        ["電話 {v}", "手機：{v}", "WhatsApp {v}", "call {v}", "聯絡 {v}"], [], True),
    "phone_mo": (v_phone_mo,
        ["澳門電話 {v}", "telemóvel de Macau {v}", "手提 {v}（澳門）", "contacto em Macau: {v}",
         "澳門手機：{v}"], [], True),
    "email": (v_email,
        ["電郵 {v}", "email: {v}", "邮箱{v}", "send to {v}"], ["{v}", "cc {v}"], False),
    "vehicle_plate": (v_plate,
        ["車牌 {v}", "车牌号 {v}", "matrícula {v}", "plate {v}"], ["{v}"], False),
    "date_of_birth": (v_dob,
        ["出生日期：{v}", "DOB: {v}", "生日 {v}", "data de nascimento: {v}", "date of birth {v}",
         "出生於{v}"], [], True),
}

# Values whose shape alone is ambiguous are only labelled when a context template is used.
PLAIN_OK = {t for t, (_, _, plain, needs) in CTX.items() if plain and not needs}

# Term sentences: (type, sentence with the term marked by [ ]).
TERMS = [
    ("medical_term", "佢上個月[確診]咗，要休息"), ("medical_term", "附件係[病歷]同[醫生紙]"),
    ("medical_term", "the [diagnosis] came back yesterday"), ("medical_term", "请把[体检报告]发给HR"),
    ("medical_term", "ele está em [quimioterapia]"), ("medical_term", "需要[化疗]两个疗程"),
    ("biometric_term", "門禁改用[指紋]登記"), ("biometric_term", "上线[人脸识别]打卡"),
    ("biometric_term", "store the [voiceprint] samples"), ("religion_term", "她是[天主教徒]"),
    ("religion_term", "表格要填[宗教信仰]嗎"), ("religion_term", "he is [Muslim], no pork please"),
    ("specific_identity_term", "申請人有[刑事紀錄]"), ("specific_identity_term", "新同事係[少數民族]"),
    ("specific_identity_term", "[registo criminal] em anexo"), ("financial_term", "今個月[糧單]已經發咗"),
    ("financial_term", "请核对[工资条]"), ("financial_term", "attached is the [bank statement]"),
    ("whereabouts_term", "客人嘅[出入境紀錄]唔可以外傳"), ("whereabouts_term", "VIP[貴賓廳][入場紀錄]"),
    ("whereabouts_term", "请导出[行动轨迹]"), ("minor_term", "需要[監護人]簽名"),
    ("minor_term", "[未成年人]不得入场"), ("minor_term", "upload the [birth certificate]"),
]

NEUTRAL = [
    "下午%d点在%d楼会议室", "第%d季度的数字出来了", "会议改到%d:30", "佢話%d點到", "請於%d月%d日前提交",
    "大概需要%d分鐘", "今日有%d個人請假", "投影片第%d頁有錯字", "the sprint ends in %d days",
    "room %d is booked", "we are at %d%% of target", "são %d horas", "faltam %d dias",
    "午餐%d蚊一個", "預算加%d%%", "版本v%d已上線", "%d位同事確認出席", "明早%d点出发",
    "上海分公司那边%d个新项目", "澳門辦公室搬去%d樓", "ticket queue down to %d", "%d new sign-ups today",
    "請幫手影印%d份", "the meeting is %d minutes long", "a reunião tem %d participantes",
    "文件已经更新到第%d版", "今日温度%d度", "打咗%d次電話都冇人聽", "周报已发，共%d页",
    "Q%d results look good", "停車場B%d有位", "sent %d reminders", "人手不足，仲差%d個",
    "好的收到", "明天下午三点开会", "今晚食乜嘢？", "ok thanks", "will do", "報告已經發咗俾你",
    "記得帶文件", "請大家準時", "老闆話下星期再傾", "Bom dia a todos", "reunião às 10h", "已经改好了，请查收",
    "客户说系统有点慢", "週末有冇時間", "the deck is in the shared folder", "辛苦晒", "noted with thanks",
    "新政策下個月生效", "麻烦帮忙review一下", "午饭吃什么", "Obrigado pela ajuda", "收到，唔該",
    "下载链接已更新", "系统维护中", "請於週五前回覆", "Let's sync tomorrow", "好啊，冇問題", "茶歇在三楼",
    "季度总结会请各部门准备材料", "新同事下周一入职，请行政准备工位", "請大家更新共享文件夾入面嘅進度表",
    "客戶想改交貨期，我同佢再傾下", "IT says the VPN will be down tonight", "Please review the draft by Friday",
    "Podemos marcar para amanhã de manhã?", "O relatório está na pasta partilhada", "營運部明天盤點倉庫",
    "这个需求我们评估一下工作量", "法務部已經睇過合約條款", "市场部的活动方案改好了", "财务说报销单要附发票原件",
    "年會場地已經訂好", "麻煩提醒一下大家填問卷", "今晚加班的同事可以叫外賣", "请假流程已经改到线上审批",
    "the client loved the new mock-ups", "can someone cover the front desk?", "training slides attached",
    "我哋下個禮拜去珠海睇廠", "供应商那边回复说下周发货", "打印机又卡纸了", "冷气太凍，可唔可以調高啲",
    "Bom trabalho, equipa!", "Quem fica com a apresentação?", "新版APP已經提交審核", "周五团建去爬山",
]

# Hard negatives: numbers that are not personal data, with the words that say so.
def negatives(rng):
    digits = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))
    return rng.choice([
        lambda: "订单号：" + digits(18),
        lambda: "訂單編號 " + digits(16),
        lambda: "快递单号 SF" + digits(12),
        lambda: "invoice no. " + digits(10),
        lambda: "tracking number " + digits(14),
        lambda: "交易流水号 " + digits(20),
        lambda: "version 2.%d.%d" % (rng.randint(0, 20), rng.randint(0, 99)),
        lambda: "%d-%02d-%02d %02d:%02d 开会" % (rng.randint(2020, 2026), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59)),
        lambda: "金额 %d,%03d.00 元" % (rng.randint(1, 999), rng.randint(0, 999)),
        lambda: "MOP %d" % rng.randint(100, 99999999),
        lambda: "HK$%d" % rng.randint(100, 99999999),
        lambda: "会议号 %s %s %s" % (digits(3), digits(3), digits(3)),
        lambda: "timestamp " + str(rng.randint(1600000000000, 1800000000000)),
        lambda: "参考编号 " + pii.cn_resident_id_wrong_check(rng),
        lambda: "號碼 " + pii.cn_resident_id_bad_date(rng),
        lambda: "SKU " + rng.choice("ABCDEFGH") + digits(6) + "(" + str(rng.randint(0, 9)) + ")",
        lambda: "房間 " + digits(4) + "，人數 " + digits(2),
        lambda: "第" + digits(4) + "期",
        lambda: digits(rng.randint(5, 7)) + "件",
        lambda: "ref " + rng.choice("HMCEK") + digits(rng.randint(4, 6)),
    ])()


def near_miss_values(rng):
    """Checksum near-misses in neutral text: nothing should be found."""
    letters, digits, check = pii.hkid(rng)
    bad = str((int(check) + 1) % 10) if check != "A" else "1"
    return rng.choice([
        pii.cn_resident_id_wrong_check(rng),
        "%s%s(%s)" % (letters, digits, bad),
        (lambda c: c[:-1] + str((int(c[-1]) + 3) % 10))(pii.card(rng)),
    ])

# ---------------------------------------------------------------------------------------------

class Record:
    def __init__(self):
        self.parts = []
        self.entities = []
        self.nbytes = 0

    def add(self, s, etype=None):
        b = s.encode("utf-8")
        if etype:
            self.entities.append({"type": etype, "start": self.nbytes, "end": self.nbytes + len(b)})
        self.parts.append(s)
        self.nbytes += len(b)

    def text(self):
        return "".join(self.parts)


def add_template(rec, template, value, etype):
    pre, post = template.split("{v}")
    rec.add(pre)
    rec.add(value, etype)
    rec.add(post)


def add_term(rec, sentence, etype):
    """Adds a sentence whose terms are marked with [ ] (one or more)."""
    rest = sentence
    while "[" in rest:
        pre, rest = rest.split("[", 1)
        term, rest = rest.split("]", 1)
        rec.add(pre)
        rec.add(term, etype)
    rec.add(rest)


def make_record(rng, labelled_density=0.75):
    rec = Record()
    pieces = rng.randint(1, 3)
    for i in range(pieces):
        if i:
            rec.add(rng.choice(["，", "。", "; ", " ", "\uff0c", ", "]))
        r = rng.random()
        if r < labelled_density * 0.85:
            etype = rng.choice(sorted(CTX))
            gen, with_ctx, plain, needs = CTX[etype]
            if with_ctx and (needs or not plain or rng.random() < 0.7):
                add_template(rec, rng.choice(with_ctx), gen(rng), etype)
            else:
                add_template(rec, rng.choice(plain), gen(rng), etype if etype in PLAIN_OK else None)
        elif r < labelled_density:
            etype, sentence = rng.choice(TERMS)
            add_term(rec, sentence, etype)
        elif r < labelled_density + 0.12:
            rec.add(negatives(rng))
        elif r < labelled_density + 0.15:
            rec.add(rng.choice(["核对 ", "check ", ""]) + near_miss_values(rng))
        else:
            rec.add(neutral(rng))
    return rec


def cmd_eval(args):
    rng = random.Random(args.seed)
    out = sys.stdout
    for i in range(args.records):
        rec = make_record(rng)
        out.write(json.dumps({"id": "r%05d" % i, "text": rec.text(), "entities": rec.entities},
                             ensure_ascii=False) + "\n")


def neutral(rng):
    s = rng.choice(NEUTRAL)
    if "%" in s:
        s = s.replace("%%", "\x00")
        s = s % tuple(rng.randint(1, 30) for _ in range(s.count("%d")))
        s = s.replace("\x00", "%")
    return s


def chat_lines(rng, megabytes, pii_share):
    """Ordinary chat: most messages carry no personal data; `pii_share` of them do, and about one
    in six carries some other number (times, amounts, order numbers)."""
    target = megabytes * 1024 * 1024
    n = 0
    i = 0
    while n < target:
        r = rng.random()
        if r < pii_share:
            text = make_record(rng, 1.0).text()
        elif r < pii_share + 0.05:
            text = negatives(rng)
        else:
            k = rng.randint(1, 4)
            text = "".join(neutral(rng) + rng.choice(["，", "。", " ", "！", ", "]) for _ in range(k))
        line = text.replace("\n", " ")
        yield i, line
        n += len(line.encode("utf-8")) + 1
        i += 1


def cmd_chat(args):
    rng = random.Random(args.seed)
    w = sys.stdout.write
    for _, line in chat_lines(rng, args.megabytes, args.pii_share):
        w(line + "\n")


def cmd_jsonl(args):
    rng = random.Random(args.seed)
    w = sys.stdout.write
    for i, line in chat_lines(rng, args.megabytes, args.pii_share):
        w(json.dumps({"id": "m%07d" % i, "text": line}, ensure_ascii=False) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("eval")
    e.add_argument("--seed", type=int, default=20261123)
    e.add_argument("--records", type=int, default=6000)
    for name in ("chat", "jsonl"):
        c = sub.add_parser(name)
        c.add_argument("--seed", type=int, default=20261123)
        c.add_argument("--megabytes", type=int, default=100)
        c.add_argument("--pii-share", type=float, default=0.01,
                       help="share of messages carrying personal data (default 0.01)")
    args = ap.parse_args()
    sys.stdout.reconfigure(encoding="utf-8", newline="\n")
    {"eval": cmd_eval, "chat": cmd_chat, "jsonl": cmd_jsonl}[args.cmd](args)


if __name__ == "__main__":
    main()
