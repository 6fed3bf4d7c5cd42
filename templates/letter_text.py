"""The wording of the three letters, article by article (used by ``build.py``).

Each letter carries the duties of its parties' actual roles (issue #20): the 党组书记 is the
第一责任人 (第五条) wherever he is 甲方; a 班子成员 bears 主要领导责任 for the departments he
supervises (第六条, 第十一条); the 纪检组长 bears 监督责任 (第八条, 第十三条, 第二十二条); a
检委会专职委员 assists the 班子成员 (第六条, 第十一条) and is assessed by the 党组 (第十四条);
a department head answers for his own department (第三条, 第九条第7项, 第十八条), and only the
相关职能部门 of 第七条 (办公室, 政工科) carry the 党组's related duties.  The template chooses
with the context variables ``tier``, ``superior_role``, ``subordinate_role`` and
``department_functions`` (docgen.letters.role_context).

Text in quotation marks or presented as an item of the regulation is the seed's wording, whole
items only (第十八条, 第二十一条 are quoted item by item); the seed writes ASCII commas and
brackets, which ``build.fullwidth`` turns into Chinese punctuation.
"""

from __future__ import annotations

from collections.abc import Iterable

from docgen.core.glossary import Role

# Paragraph kinds (build.STYLE_FOR maps them to styles).
TITLE, SUBTITLE, H1, H2, BODY, PLAIN, TAG = "title", "subtitle", "h1", "h2", "body", "plain", "tag"
Block = tuple[str, str]

REGULATION = "《{{ institution }}落实党风廉政建设主体责任和监督责任实施办法(试行)》"

SECRETARY = Role.PARTY_SECRETARY.value
LEADER = Role.LEADER.value
DISCIPLINE = Role.DISCIPLINE_HEAD.value
COMMITTEE = Role.COMMITTEE_MEMBER.value
OFFICE, PERSONNEL = "办公室", "政工科"  # 第七条第(一)项, 第(二)项


def tag(text: str) -> Block:
    return (TAG, "{%p " + text + " %}")


def numbered(items: Iterable[str]) -> list[Block]:
    """Body paragraphs numbered 1., 2., … (a branch of a template numbers its own items)."""
    return [(BODY, f"{i}.{text}") for i, text in enumerate(items, 1)]


def branches(*cases: tuple[str | None, list[Block]]) -> list[Block]:
    """``{%p if a %}…{%p elif b %}…{%p else %}…{%p endif %}``; a None condition is the else."""
    out: list[Block] = []
    for i, (condition, blocks) in enumerate(cases):
        if condition is None:
            out.append(tag("else"))
        else:
            out.append(tag(("if " if i == 0 else "elif ") + condition))
        out.extend(blocks)
    out.append(tag("endif"))
    return out


def _common_head(subtitle: str) -> list[Block]:
    return [(TITLE, subtitle), (SUBTITLE, "({{ year }}年度)")]


# --------------------------------------------------------------------------- the seed's items

ARTICLE_5 = [
    "传达贯彻责任。及时组织传达学习上级对党风廉政建设工作的部署要求,提出贯彻落实的意见和"
    "办法(第五条第(一)项)。",
    "组织推动责任。坚持重要工作亲自部署,重大问题亲自过问,重点环节亲自协调,重要案件亲自"
    "督办,抓好党风廉政建设各项工作任务落实(第五条第(二)项)。",
    "教育监管责任。加强对班子成员及直接管理下属的经常性教育、监督和管理(第五条第(三)项)。",
    "敢于担当责任。坚持原则,敢于负责,依纪依规依法办事,坚决查处各种违纪违法问题;班子出了"
    "问题,或者队伍出现重大问题时,应主动检查,自觉接受组织调查追责(第五条第(四)项)。",
    "表率带头责任。严格遵守领导干部廉洁自律各项规定,以身作则,以上率下,为班子成员和全体"
    "干警作出表率和示范(第五条第(五)项)。",
]

ARTICLE_6 = [
    "过问了解责任。及时了解掌握分管部门党风廉政建设工作情况及直接管理下属的思想、工作、"
    "生活情况(第六条第(一)项)。",
    "督促检查责任。将党风廉政建设与分管业务工作一起部署落实,并适时检查(第六条第(二)项)。",
    "告诫提醒责任。对发现的分管部门及人员在纪律、作风、廉政方面存在的问题,及时提醒,"
    "抓早抓小,防微杜渐(第六条第(三)项)。",
    "沟通汇报责任。班子成员之间加强协调沟通和协作配合,主动向党组及党组书记汇报分管部门"
    "党风廉政建设工作情况(第六条第(四)项)。",
]

ARTICLE_8 = [
    "协助协调责任。协助党组加强党风建设和组织协调自身反腐败工作(第八条第(一)项)。",
    "监督检查责任。对党组、党员领导干部行使权力和廉洁从检情况进行监督检查(第八条第(二)项)。",
    "维护纪律责任。监督检查党纪、检纪执行和转变作风情况,及时提醒和纠正违反党纪、检纪和"
    "“四风”问题,维护纪律严肃性(第八条第(三)项)。",
    "查办案件责任。受理、评估、处理举报检察人员违纪违法问题线索,依纪依规组织查处(第八条第(四)项)。",
    "问题报告责任。按规定向县纪委和市院纪检组报告县院党组成员、其他领导干部以及检察干警的"
    "重大违纪违法线索和问题(第八条第(五)项)。",
]

# 第十三条: the 纪检组's measures that a 纪检组长 answers for in person.
ARTICLE_13 = [
    "通过参加党组会,对领导班子和领导干部贯彻执行民主集中制,遵守党的纪律、作风、廉政规定等"
    "情况进行监督,对发现的问题,及时提出意见建议(第十三条第1项)。",
    "每半年与班子成员就贯彻执行党风廉政建设责任制、遵守廉洁自律规定情况交换意见(第十三条第2项)。",
    "适时开展针对转变作风、遵守纪律情况专项督察,坚决纠正违反纪律作风规定的各种问题,对查处的"
    "典型问题点名道姓公开通报(第十三条第7项)。",
    "根据有关规定,及时向县纪委和市检院纪检组报告院党组成员、其他领导干部以及检察干警的重大"
    "违纪违法问题线索(第十三条第8项)。",
    "每年应及时向县纪委和市检院纪检组报告履行监督责任情况(第十三条第10项)。",
    "认真受理反映检察人员违纪违法的举报、控告信件,按照信件管理和处置规定,分别作出直办、督办、"
    "转办、阅处、留存等处理(第十三条第11项)。",
]

LEADER_DUTY = (
    "认真履行“一岗双责”,在组织分管部门制定工作计划、推动工作落实、主持召开会议、开展调研指导"
    "等工作时,将党风廉政建设与业务工作一并研究部署、一并组织实施(第十一条第1项)。"
)
SIGN_WITH_HEADS = (
    "年初与分管部门负责人签订《党风廉政建设责任书》,平时应加强督促指导,年底对落实情况进行"
    "检查考核。对直接办案以及管理人、财、物、项目的岗位和人员,应重点加强检查(第十一条第2项)。"
)
FOUR_ONES = (
    "认真落实“四个一”的要求:每季度至少听取1次分管部门党风廉政建设情况汇报;每季度与分管部门"
    "负责人进行1次廉政谈话;每年至少同分管部门人员谈心谈话1次;每年至少为分管部门讲1次廉政党课"
    "(第十一条第6项)。"
)
COLLEAGUES = "班子成员之间应主动经常协调沟通,并加强个人之间的相互帮助和廉政提醒(第十一条第3项)。"
LEADS = "对发现的检察机关、检察人员重大违纪违法问题线索,应及时向党组报告(第十一条第4项)。"
SUPPORT = "积极支持纪检监察机构履行监督执纪问责职责(第十一条第5项)。"
REPORTING = (
    "认真执行请示报告制度,凡涉及个人重大问题、重要事项、外出等情况,必须如实报告,不得弄虚作假、"
    "隐瞒不报(第九条第18项)。"
)
FAMILY = "从严管理配偶、子女及身边工作人员,自觉接受监督(第十条第5项)。"
EIGHT_RULES = (
    "认真执行中央八项规定、省委“双十条”规定、市委“实施细则”以及高检院、省院的相关规定,"
    "坚持不懈抓好作风建设;坚决抵制“四风”(第九条第11项、第四条第(四)项)。"
)
ARTICLE_15 = (
    "不履行或不正确履行主体责任、监督责任,导致发生严重违纪违法行为的,应当严肃追究有关"
    "责任人员的责任(第十五条)。"
)
ARTICLE_18 = (
    "领导班子、部门负责人不履行或者不正确履行本办法规定的主体责任,有《实施办法》第十八条"
    "规定情形之一的,应当严肃追究责任(第十八条),其中包括:"
    "对上级交办的党风廉政建设责任范围内的事项不传达贯彻、不安排部署、不督促落实的(第1项);"
    "履行责任不力,导致职责范围内发生严重违反廉洁从检、作风建设有关规定和损害群众利益的问题,"
    "或者明令禁止的不正之风长期得不到有效治理,造成不良影响的(第2项);"
    "职责范围内发生检察人员腐败犯罪案件,或者在较短时间内连续发生严重违纪违法问题的(第3项);"
    "对发生的严重违纪违法行为放任纵容、袒护包庇、压案不查,或阻止干扰纪检监察机构调查的"
    "(第4项);"
    "领导班子成员或者直接管辖的下属发生严重违纪违法问题,负有失教失管失察责任的(第7项);"
    "放任、纵容配偶、子女、身边工作人员严重违纪违法,在社会上造成恶劣影响的(第8项)。"
)
ARTICLE_19 = (
    "班子成员、检委会专职委员不履行或不正确履行主体责任,有本办法第十八条规定情形之一,情节较轻"
    "的,给予批评教育、诫勉谈话、责令作出书面检查;情节较重的,给予通报批评;情节严重的,给予党纪"
    "检纪处分或组织处理;涉嫌犯罪的,移送司法机关依法处理(第十九条)。"
)
ARTICLE_20 = (
    "责任追究的方式包括党纪处分、检纪处分、组织处理和批评教育、诫勉谈话、责令作出书面检查、"
    "通报批评等。上述方式可以单独使用,也可以合并使用(第二十条)。"
)
ARTICLE_21 = (
    "领导班子、领导干部不履行或者不正确履行主体责任,致使领导班子成员或者直接管辖的下属发生严重"
    "违纪违法问题的,应“一案双查”,既追究当事人的责任,也倒查追究相关领导的责任:"
    "下属人员严重违纪违法的,倒查追究其所在党支部书记责任;"
    "下属人员发生贪赃枉法、徇私舞弊、索贿受贿、刑讯逼供等重大犯罪案件,或违规、违纪、违法办案致"
    "当事人死亡、伤残、脱逃等重大责任事故的,倒查追究分管院领导责任(第二十一条)。"
)
ARTICLE_22 = (
    "纪检组不履行或不正确履行党风廉政建设监督责任,有《实施办法》第二十二条规定情形之一的,应严肃"
    "倒查追究其监督责任(第二十二条),其中包括:履行监督责任不到位,对职责范围内的重大违纪违法"
    "问题,应当发现而未及时发现,或者发现后不按规定的组织原则、程序报告、查处的(第1项);"
    "有其他严重失职、渎职行为的(第4项)。"
)

# The conditions of the templates (Jinja, inside {%p … %}).
IS_SECRETARY = f"superior_role == '{SECRETARY}'"
IS_DISCIPLINE = f"subordinate_role == '{DISCIPLINE}'"
IS_COMMITTEE = f"subordinate_role == '{COMMITTEE}'"
IS_LEADERSHIP = "tier == 'leadership'"
IS_FUNCTIONAL = "department_functions"
# A 纪检组长 or 专职委员 heading a department signs that tier's letter as its head.
LEAD_DISCIPLINE = f"{IS_LEADERSHIP} and {IS_DISCIPLINE}"
LEAD_COMMITTEE = f"{IS_LEADERSHIP} and {IS_COMMITTEE}"


def _parties(superior_label: str, subordinate_label: str) -> list[Block]:
    return [
        (PLAIN, f"{superior_label}:{{{{ superior_title }}}}　{{{{ superior_name }}}}"),
        (PLAIN, f"{subordinate_label}:{{{{ subordinate_title }}}}　{{{{ subordinate_name }}}}"),
        tag("if tier == 'leadership' and supervised_departments"),
        (PLAIN, "乙方分管部门:{{ supervised_departments|join('、') }}"),
        tag("endif"),
        tag("if department"),
        (
            PLAIN,
            "{% if tier == 'department' %}乙方负责部门{% else %}乙方所在部门{% endif %}:"
            "{{ department }}",
        ),
        tag("endif"),
    ]


# --------------------------------------------------------------------------- 责任书


def _leadership_duties() -> list[Block]:
    """一、明确职责 between the 党组书记 and a 班子成员, 纪检组长 or 检委会专职委员."""
    supervising = [
        (BODY, "乙方对职责范围内党风廉政建设负以下主要领导责任(第六条):"),
        *numbered(ARTICLE_6),
    ]
    return [
        (H2, "(一)甲方职责"),
        (BODY, "甲方作为党组书记,对职责范围内党风廉政建设履行第一责任人的责任(第五条):"),
        *numbered(ARTICLE_5),
        (H2, "(二)乙方职责"),
        *branches(
            (
                IS_DISCIPLINE,
                [
                    (
                        BODY,
                        "纪检组负监督责任(第二条)。乙方作为纪检组长,带领纪检组聚焦中心任务,突出"
                        "主业主责,认真履行党风廉政建设监督责任(第八条):",
                    ),
                    *numbered(ARTICLE_8),
                    tag("if supervised_departments"),
                    *supervising,
                    tag("endif"),
                ],
            ),
            (
                IS_COMMITTEE,
                [
                    (
                        BODY,
                        "乙方为检委会专职委员。检委会专职委员协助班子成员抓好党风廉政建设工作"
                        "(第六条),并应协助班子成员抓好第十一条所列各项工作(第十一条)。乙方履行"
                        "党风廉政建设主体责任情况由党组负责考核(第十四条)。",
                    ),
                ],
            ),
            (None, supervising),
        ),
    ]


def _department_duties() -> list[Block]:
    """一、明确职责 between a 分管院领导 (or the 党组书记) and a department head."""
    return [
        (H2, "(一)甲方职责"),
        *branches(
            (
                IS_SECRETARY,
                [
                    (
                        BODY,
                        "甲方作为党组书记,分管乙方负责的部门,对职责范围内党风廉政建设履行第一"
                        "责任人的责任(第五条),坚持谁主管谁负责(第三条):",
                    ),
                    *numbered([ARTICLE_5[1], ARTICLE_5[2]]),
                ],
            ),
            (
                None,
                [
                    (
                        BODY,
                        "甲方作为分管院领导,对分管部门党风廉政建设负主要领导责任(第六条):",
                    ),
                    *numbered(ARTICLE_6),
                ],
            ),
        ),
        (H2, "(二)乙方职责"),
        *branches(
            (
                IS_FUNCTIONAL,
                [
                    (
                        BODY,
                        "乙方负责{{ department }}党风廉政建设工作。{{ department }}是相关职能部门,"
                        "除履行本部门党风廉政建设责任外,还应当按照职能分工,承担党组履行主体"
                        "责任的相关责任(第七条):",
                    ),
                ],
            ),
            (
                None,
                [
                    (
                        BODY,
                        "乙方负责{{ department }}党风廉政建设工作,坚持谁主管谁负责、逐级分解落实"
                        "(第三条),履行本部门党风廉政建设责任:",
                    ),
                ],
            ),
        ),
        *numbered(
            [
                "将党风廉政建设与本部门业务工作同部署、同落实(第三条、第四条)。",
                "加强对本部门人员的教育、监督和管理,对发现的纪律、作风、廉政方面的问题及时提醒"
                "纠正,防止本部门人员发生严重违纪违法问题(第十八条第7项)。",
                "支持纪检监察机构查处违纪违法问题,自觉接受纪检监察机构的监督检查"
                "(第九条第22项、第23项)。",
            ]
        ),
        tag(f"if '{OFFICE}' in department_functions"),
        (
            BODY,
            "4.办公室履行协调督办责任。负责党风廉政建设重大事项协调,承担党组有关党风廉政建设"
            "决议事项落实督办等工作(第七条第(一)项);负责党组有关党风廉政建设重要会议、重大活动"
            "的组织筹备协助协调工作(第十二条第(一)项第1项)。",
        ),
        tag("endif"),
        tag(f"if '{PERSONNEL}' in department_functions"),
        (
            BODY,
            "{% if '"
            + OFFICE
            + "' in department_functions %}5{% else %}4{% endif %}.政工科履行教育培训、宣传和舆情"
            "处置责任。负责将党风廉政建设各项规定和要求的认知纳入教育培训计划,做到逢培必训;宣传"
            "报道党风廉政建设重大决策部署、工作进展情况、经验做法,协调应对相关网络舆情(第七条第"
            "(二)项);配合纪检组负责撰写党组向县委、县纪委、市检院党组上报履行主体责任情况的报告"
            "(第十二条第(二)项第6项)。",
        ),
        tag("endif"),
    ]


def _leadership_tasks() -> list[Block]:
    """二、明确工作任务和要求 between the 党组书记 and his counterpart."""
    sign = (
        "年初与乙方面对面签订《党风廉政建设责任书》和《公开承诺书》,年底对落实情况进行检查考核;"
        "经常了解乙方履行职责和遵守纪律情况,适时提出加强纪律作风和廉政建设的要求(第十条第3项)。"
    )
    tutorial = "每年至少为干警作1次党风廉政建设专题辅导报告(第十条第6项)。"
    lead = (
        "带头执行党的各项纪律,带头遵守廉洁从检各项规定,带头执行个人重大问题、重要事项请示报告"
        "制度,带头反对和纠正“四风”(第十条第4项)。"
    )
    talks = [
        "每年至少对乙方履行主体责任情况约谈1次(第十条第7项)。",
        "每年与乙方谈心谈话不少于1次,提出履行主体责任和廉洁从检要求(第十条第8项)。",
    ]
    supervising = [LEADER_DUTY, SIGN_WITH_HEADS, FOUR_ONES]
    return [
        (H2, "(一)甲方工作任务"),
        *branches(
            (
                IS_DISCIPLINE,
                numbered(
                    [
                        sign,
                        *talks,
                        "领导和支持纪检监察机构依纪依法履行监督职责(第四条第(六)项);积极支持"
                        "纪检监察机构转职能、转方式、转作风,聚焦监督、执纪、问责主业(第九条第21项)。",
                        "适时听取纪检监察工作情况汇报,及时研究解决纪检监察工作中存在的困难和问题"
                        "(第九条第20项)。",
                        lead,
                    ]
                ),
            ),
            (
                IS_COMMITTEE,
                numbered(
                    [
                        "年初与乙方面对面签订《党风廉政建设责任书》和《公开承诺书》(第十条第3项),"
                        "年底对乙方履行党风廉政建设主体责任情况进行考核(第十四条)。",
                        tutorial,
                        lead,
                    ]
                ),
            ),
            (None, numbered([sign, *talks, tutorial, lead])),
        ),
        (H2, "(二)乙方工作任务"),
        *branches(
            (
                IS_DISCIPLINE,
                [
                    *numbered([*ARTICLE_13, COLLEAGUES, REPORTING, FAMILY]),
                    tag("if supervised_departments"),
                    *[
                        (BODY, f"{i}.{text}")
                        for i, text in enumerate(supervising, len(ARTICLE_13) + 4)
                    ],
                    tag("endif"),
                ],
            ),
            (IS_COMMITTEE, numbered([LEADS, SUPPORT, REPORTING, FAMILY])),
            (
                None,
                [
                    tag("if supervised_departments"),
                    *numbered([*supervising, COLLEAGUES, LEADS, SUPPORT, REPORTING, FAMILY]),
                    tag("else"),
                    *numbered([COLLEAGUES, LEADS, SUPPORT, REPORTING, FAMILY]),
                    tag("endif"),
                ],
            ),
        ),
    ]


def _department_tasks() -> list[Block]:
    """二、明确工作任务和要求 between a 分管院领导 (or the 党组书记) and a department head."""
    return [
        (H2, "(一)甲方工作任务"),
        *branches(
            (
                IS_SECRETARY,
                numbered(
                    [
                        "按照谁主管谁负责的原则(第三条),年初与乙方签订《党风廉政建设责任书》,"
                        "平时加强督促指导,年底对落实情况进行检查考核(第九条)。",
                        "参照第十一条第6项“四个一”的要求:每季度至少听取1次乙方所在部门党风廉政"
                        "建设情况汇报;每季度与乙方进行1次廉政谈话;每年至少同该部门人员谈心谈话1次;"
                        "每年至少为该部门讲1次廉政党课(第三条)。",
                        "每年与班子成员及中层领导干部谈心谈话不少于1次,提出履行主体责任和廉洁从检"
                        "要求(第十条第8项)。",
                    ]
                ),
            ),
            (
                None,
                numbered(
                    [
                        "年初与乙方签订《党风廉政建设责任书》,平时加强督促指导,年底对落实情况进行"
                        "检查考核(第十一条第2项)。",
                        "认真落实“四个一”要求:每季度至少听取1次乙方所在部门党风廉政建设情况汇报;"
                        "每季度与乙方进行1次廉政谈话;每年至少同该部门人员谈心谈话1次;每年至少为"
                        "该部门讲1次廉政党课(第十一条第6项)。",
                    ]
                ),
            ),
        ),
        (H2, "(二)乙方工作任务"),
        *numbered(
            [
                "及时与本部门工作人员签订以“廉洁从检和违诺承担”为主要内容的《廉洁从检承诺书》"
                "(第九条第7项)。",
                "每季度向甲方汇报1次本部门党风廉政建设情况,按时参加甲方组织的廉政谈话"
                "({% if superior_role == '"
                + SECRETARY
                + "' %}第三条{% else %}第十一条第6项{% endif %})。",
                EIGHT_RULES,
                REPORTING,
            ]
        ),
    ]


def _accountability() -> list[Block]:
    """三、明确责任担当: 第十五条 for all; the articles of each party's liability."""
    return [
        (H1, "三、明确责任担当"),
        *branches(
            (
                LEAD_DISCIPLINE,
                numbered([ARTICLE_15, ARTICLE_22, ARTICLE_18, ARTICLE_19, ARTICLE_21]),
            ),
            (IS_LEADERSHIP, numbered([ARTICLE_15, ARTICLE_18, ARTICLE_19, ARTICLE_21])),
            (None, numbered([ARTICLE_15, ARTICLE_18, ARTICLE_20, ARTICLE_21])),
        ),
    ]


def responsibility() -> list[Block]:
    """党风廉政建设责任书 (第九条第5项、第十条第3项、第十一条第2项)."""
    blocks = _common_head("党风廉政建设责任书")
    blocks += _parties("甲方(责任领导)", "乙方(责任人)")
    blocks += [
        (
            BODY,
            f"为落实党风廉政建设主体责任和监督责任,根据{REGULATION}(以下简称《实施办法》)"
            "{{ articles }}的规定,坚持集体领导和个人分工负责相结合、谁主管谁负责、逐级分解落实、"
            "严格责任追究的原则(第三条),以“明确职责、明确工作任务和要求、明确责任担当”为主要"
            "内容(第九条第5项),甲乙双方于{{ year }}年初面对面签订本责任书。",
        ),
        (H1, "一、明确职责"),
        *branches((IS_LEADERSHIP, _leadership_duties()), (None, _department_duties())),
        (H1, "二、明确工作任务和要求"),
        *branches((IS_LEADERSHIP, _leadership_tasks()), (None, _department_tasks())),
        *_accountability(),
        (H1, "四、其他"),
        (
            BODY,
            "{{ year }}年底由甲方对乙方落实本责任书情况进行检查考核({% if tier == 'leadership' %}"
            "{% if subordinate_role == '"
            + COMMITTEE
            + "' %}第十四条{% else %}第十条第3项{% endif %}"
            "{% elif superior_role == '"
            + SECRETARY
            + "' %}第九条{% else %}第十一条第2项{% endif %})。"
            "本责任书一式两份,甲乙双方各执一份,经双方签名后生效,有效期至{{ year }}年12月31日。",
        ),
    ]
    return blocks


# --------------------------------------------------------------------------- 公开承诺书


def public_commitment() -> list[Block]:
    """公开承诺书 (第九条第6项、第十条第3项)."""
    blocks = _common_head("公开承诺书")
    blocks += _parties("甲方(责任领导)", "乙方(承诺人)")
    leader = [
        "对职责范围内党风廉政建设负主要领导责任,认真履行过问了解、督促检查、告诫提醒、沟通"
        "汇报责任(第六条)。",
        LEADER_DUTY,
    ]
    blocks += [
        (
            BODY,
            f"根据{REGULATION}(以下简称《实施办法》){{{{ articles }}}}的规定,乙方与甲方面对面签订"
            "本承诺书,向组织和全院干警公开承诺如下:",
        ),
        (H1, "一、认真履行党风廉政建设责任"),
        *branches(
            (
                LEAD_DISCIPLINE,
                numbered(
                    [
                        "认真履行党风廉政建设监督责任,履行协助协调、监督检查、维护纪律、查办案件、"
                        "问题报告责任(第八条)。",
                        "聚焦主业,切实履行监督、执纪、问责职责,确保监督责任落实(第十三条)。",
                    ]
                ),
            ),
            (
                LEAD_COMMITTEE,
                numbered(
                    [
                        "按照“检委会专职委员协助班子成员抓好党风廉政建设工作”的规定(第六条),"
                        "协助班子成员抓好第十一条所列各项工作(第十一条)。",
                        "履行党风廉政建设主体责任情况接受党组考核(第十四条)。",
                    ]
                ),
            ),
            (IS_LEADERSHIP, numbered(leader)),
            (
                IS_FUNCTIONAL,
                numbered(
                    [
                        "除履行本部门党风廉政建设责任外,还应当按照职能分工,承担党组履行主体责任的"
                        "相关责任(第七条)。",
                        "将党风廉政建设与本部门业务工作同部署、同落实(第三条、第四条)。",
                    ]
                ),
            ),
            (
                None,
                numbered(
                    [
                        "坚持谁主管谁负责、逐级分解落实,履行本部门党风廉政建设责任(第三条)。",
                        "将党风廉政建设与本部门业务工作同部署、同落实(第三条、第四条)。",
                    ]
                ),
            ),
        ),
        (
            BODY,
            "3.加强对管辖和分管部门党员干部和工作人员的经常性教育、监督和管理;对发现的纪律、作风、"
            "廉政方面的问题,及时提醒,抓早抓小,防微杜渐(第五条第(三)项、第六条第(三)项)。",
        ),
        (BODY, "4." + EIGHT_RULES),
        (BODY, "5." + REPORTING),
        (
            BODY,
            "6.从严管理配偶、子女及身边工作人员,自觉接受纪检监察机构的监督检查(第十条第5项、"
            "第九条第22项)。",
        ),
        (H1, "二、自愿接受组织调查和承担连带责任"),
        (
            BODY,
            "1.因个人责任不到位、工作不力,导致管辖和分管部门的党员干部和工作人员发生严重违纪违法"
            "问题,自愿接受组织调查和承担连带责任(第九条第6项)。",
        ),
        (
            BODY,
            "2.领导班子成员或者直接管辖的下属发生严重违纪违法问题,本人负有失教失管失察责任的,"
            "接受组织严肃追究(第十八条第7项)。",
        ),
        (BODY, "3." + ARTICLE_21),
        *branches(
            (
                LEAD_DISCIPLINE,
                [(BODY, "4." + ARTICLE_19), (BODY, "5." + ARTICLE_22)],
            ),
            (IS_LEADERSHIP, [(BODY, "4." + ARTICLE_19)]),
            (None, [(BODY, "4." + ARTICLE_20)]),
        ),
        (H1, "三、接受监督"),
        (
            BODY,
            "本承诺书在本院公开,接受组织和全院干警监督。本承诺书一式两份,甲乙双方各执一份,经双方"
            "签名后生效,有效期至{{ year }}年12月31日。",
        ),
    ]
    return blocks


# --------------------------------------------------------------------------- 廉洁从检承诺书


def integrity_pledge() -> list[Block]:
    """廉洁从检承诺书 (第九条第7项)."""
    blocks = _common_head("廉洁从检承诺书")
    blocks += _parties("甲方(责任领导)", "乙方(承诺人)")
    blocks += [
        (
            BODY,
            f"根据{REGULATION}(以下简称《实施办法》){{{{ articles }}}}的规定,乙方与甲方签订以"
            "“廉洁从检和违诺承担”为主要内容的本承诺书,郑重承诺如下:",
        ),
        (H1, "一、廉洁从检"),
        *numbered(
            [
                "做信念坚定、执法为民、敢于担当、清正廉洁的检察人员(第四条第(七)项)。",
                EIGHT_RULES,
                "严格遵守《检察人员廉洁从检若干规定》和《甘肃省检察机关工作人员廉洁从检承诺规定》"
                "(第二十二条第2项)。",
                "依纪依规依法办事;认真解决和妥善处理上访群众诉求,坚持理性、平和、文明、规范接待,"
                "依法依规公正办理,不侵害群众利益(第五条第(四)项、第九条第13项、第14项)。",
                "在检察权运行、执法办案、人财物管理等重点环节严格执行制度规定,不贪赃枉法、徇私舞弊、"
                "索贿受贿、刑讯逼供,不违规、违纪、违法办案(第九条第15项、第二十一条第2项)。",
                "认真落实《党政机关厉行节约反对浪费条例》、《党政机关国内公务接待管理规定》"
                "(第九条第12项)。",
                REPORTING,
                "自觉接受纪检组和甲方对本人廉洁从检情况的监督检查(第八条第(二)项、第九条第22项)。",
            ]
        ),
        (H1, "二、违诺承担"),
        *numbered(
            [
                "违反上述承诺的,本人自愿接受组织调查,承担相应责任(第九条第7项)。",
                "有轻微违纪尚不够纪律处分,或者有苗头性倾向性问题的,接受警示提醒、训诫督导、责令"
                "纠错(第十三条第13项)。",
                "查明确有违纪违规行为的,接受党纪检纪处理,构成犯罪的,移送司法机关处理(第十三条"
                "第12项);" + ARTICLE_20,
            ]
        ),
        (H1, "三、甲方责任"),
        *numbered(
            [
                "甲方加强对乙方的经常性教育、监督和管理,对发现的纪律、作风、廉政方面的问题,及时"
                "提醒,抓早抓小,防微杜渐(第五条第(三)项、第六条第(三)项)。",
                "乙方发生严重违纪违法问题,甲方负有失教失管失察责任的,依照《实施办法》第十八条第7项、"
                "第二十一条追究甲方责任。",
            ]
        ),
        (H1, "四、其他"),
        (
            BODY,
            "本承诺书一式两份,甲乙双方各执一份,经双方签名后生效,有效期至{{ year }}年12月31日。",
        ),
    ]
    return blocks
