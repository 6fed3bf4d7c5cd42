"""A synthetic province-scale roster: N people, one 党组书记, many 班子成员, many departments.

Usage: ``python benchmarks/make_roster.py N > roster.yaml`` (or import :func:`make_roster_yaml`).

The shape follows the pairing rules at scale: each 班子成员 supervises a handful of departments,
each department has one head and 10–20 staff, so the number of letters is close to N (one
《廉洁从检承诺书》 per staff member, two letters per department head, two per 班子成员). Names are
fictional, 2–4 characters long, drawn from a fixed seed so the same N always gives the same file;
a few awkward names (``·``, 𠮷, ``&``, ``<``, ``{{ x }}``) keep the fast path honest.
"""

from __future__ import annotations

import json
import random
import sys

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "慕容")
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰萍红娥建国志文斌海燕晓东梅丹雪琳宇浩然"
    "思远欣怡嘉诚梦瑶子豪佳琪雨桐俊峰婉清航博景行承泽秋实振春生庆书瑶天佑若溪明哲心怡"
)
EDGE_NAMES = ("阿依古丽·买买提", "𠮷野家", "A&B<C>", "{{ x }}", "张<三>", "李&四")
STAFF_TITLES = ("检察官", "检察官助理", "书记员", "科员", "司法警察")
DEPARTMENT_KINDS = (
    "第一检察部", "第二检察部", "第三检察部", "第四检察部", "第五检察部", "办公室", "政工科",
    "综合业务部", "检务保障部", "案件管理部",
)  # fmt: skip

DEPARTMENTS_PER_LEADER = 5
MIN_STAFF, MAX_STAFF = 10, 20
SEED = 20270105


def _name(rng: random.Random) -> str:
    if rng.random() < 0.02:
        surname = rng.choice(COMPOUND_SURNAMES)
        given_len = rng.choice((1, 2))
    else:
        surname = rng.choice(SURNAMES)
        given_len = rng.choice((1, 2, 2, 2))  # 2–3 characters, mostly 3
    return surname + "".join(rng.choice(GIVEN) for _ in range(given_len))


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def make_roster_yaml(n: int, *, institution: str = "某省人民检察院(基准测试)") -> str:
    """A roster of about ``n`` people (at least 4) whose pairings give about ``n`` letters."""
    if n < 4:
        raise ValueError("a roster needs at least 4 people")
    rng = random.Random(SEED)
    people: list[str] = []
    departments: list[str] = []
    serial = 0

    def person(name: str, title: str, role: str) -> str:
        nonlocal serial
        serial += 1
        pid = f"P{serial:06d}"
        people.append(
            f"  - {{id: {pid}, name: {_quoted(name)}, title: {_quoted(title)}, role: {role}}}"
        )
        return pid

    person(_name(rng), "党组书记、检察长", "党组书记")
    # People left for departments: each department has a head and 10–20 staff (≈16 people), and
    # each 班子成员 supervises DEPARTMENTS_PER_LEADER departments.
    average = (MIN_STAFF + MAX_STAFF) / 2 + 1
    remaining = n - 1
    dept_count = max(1, round(remaining / (average + 1 / DEPARTMENTS_PER_LEADER)))
    leader_count = max(1, -(-dept_count // DEPARTMENTS_PER_LEADER))
    leaders = [person(_name(rng), "党组成员、副检察长", "班子成员") for _ in range(leader_count)]
    staff_total = n - 1 - leader_count - dept_count
    sizes = [
        staff_total // dept_count + (1 if d < staff_total % dept_count else 0)
        for d in range(dept_count)
    ]
    # The awkward names are spread evenly over the roster, so even a small one has them all.
    spacing = max(1, staff_total // len(EDGE_NAMES))
    edge_names = list(EDGE_NAMES)
    staff_seen = 0
    for d, size in enumerate(sizes):
        kind = DEPARTMENT_KINDS[d % len(DEPARTMENT_KINDS)]
        dept_name = f"{kind}(第{d // len(DEPARTMENT_KINDS) + 1}院)"
        head = person(_name(rng), f"{kind}主任", "部门负责人")
        members = []
        for _ in range(max(1, size)):
            edge = edge_names and staff_seen % spacing == 0
            name = edge_names.pop(0) if edge else _name(rng)
            staff_seen += 1
            members.append(person(name, rng.choice(STAFF_TITLES), "工作人员"))
        supervisor = leaders[d // DEPARTMENTS_PER_LEADER]
        departments.append(
            f"  - {{name: {_quoted(dept_name)}, head: {head}, supervisor: {supervisor},"
            f" members: [{', '.join(members)}]}}"
        )
    return "\n".join(
        [
            "# 基准测试用的虚构名册(benchmarks/make_roster.py 生成)",
            f"institution: {_quoted(institution)}",
            "people:",
            *people,
            "departments:",
            *departments,
            "",
        ]
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("用法:python benchmarks/make_roster.py 人数 > roster.yaml", file=sys.stderr)
        return 2
    sys.stdout.write(make_roster_yaml(int(argv[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
