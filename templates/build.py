"""Build the three letter templates in this folder (run: ``python templates/build.py``).

The .docx files are committed; this script is how they were made, so they can be rebuilt after a
change to the wording below.  Running it twice gives byte-identical files.  A clerk who only wants
to reword a letter can open the .docx in Word or WPS instead (see README.md).

Typography follows GB/T 9704-2012: A4, margins 37/35/28/26 mm, title 方正小标宋简体 22 pt,
body 仿宋_GB2312 16 pt at an exact 28 pt line, headings 黑体 / 楷体_GB2312, page number 宋体 14 pt
"— 1 —" at the outer bottom (right on odd pages, left on even pages), the document id under it.
Every duty is taken from the 实施办法 and cites its article.

Usage: python templates/build.py [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from footer_qr import code_line_with_qr, name_qr_media  # noqa: E402

from docgen.core.glossary import LetterKind  # noqa: E402
from docgen.core.page import set_official_page  # noqa: E402
from docgen.core.workspace import Fonts  # noqa: E402
from docgen.letters.render import normalize_package  # noqa: E402

# The year the template files claim to be from (zip timestamps, core properties).
TEMPLATE_YEAR = 2025
FONTS = Fonts()
REGULATION = "《{{ institution }}落实党风廉政建设主体责任和监督责任实施办法(试行)》"

# Paragraph kinds: style id → (font attribute of Fonts, size in half-points is in the style).
TITLE, SUBTITLE, H1, H2, BODY, PLAIN, TAG = "title", "subtitle", "h1", "h2", "body", "plain", "tag"
Block = tuple[str, str]


# --------------------------------------------------------------------------- letter text


def _common_head(subtitle: str) -> list[Block]:
    return [(TITLE, subtitle), (SUBTITLE, "({{ year }}年度)")]


ARTICLE_6 = [
    "1.过问了解责任。及时了解掌握分管部门党风廉政建设工作情况及直接管理下属的思想、工作、"
    "生活情况(第六条第(一)项)。",
    "2.督促检查责任。将党风廉政建设与分管业务工作一起部署落实,并适时检查(第六条第(二)项)。",
    "3.告诫提醒责任。对发现的分管部门及人员在纪律、作风、廉政方面存在的问题,及时提醒,"
    "抓早抓小,防微杜渐(第六条第(三)项)。",
    "4.沟通汇报责任。班子成员之间加强协调沟通和协作配合,主动向党组及党组书记汇报分管部门"
    "党风廉政建设工作情况(第六条第(四)项)。",
]

ARTICLE_5 = [
    "1.传达贯彻责任。及时组织传达学习上级对党风廉政建设工作的部署要求,提出贯彻落实的意见和"
    "办法(第五条第(一)项)。",
    "2.组织推动责任。坚持重要工作亲自部署,重大问题亲自过问,重点环节亲自协调,重要案件亲自"
    "督办,抓好党风廉政建设各项工作任务落实(第五条第(二)项)。",
    "3.教育监管责任。加强对班子成员及直接管理下属的经常性教育、监督和管理(第五条第(三)项)。",
    "4.敢于担当责任。坚持原则,敢于负责,依纪依规依法办事,坚决查处各种违纪违法问题;班子出了"
    "问题,或者队伍出现重大问题时,应主动检查,自觉接受组织调查追责(第五条第(四)项)。",
    "5.表率带头责任。严格遵守领导干部廉洁自律各项规定,以身作则,以上率下,为班子成员和全体"
    "干警作出表率和示范(第五条第(五)项)。",
]

REPORTING = (
    "认真执行请示报告制度,凡涉及个人重大问题、重要事项、外出等情况,必须如实报告,不得弄虚作假、"
    "隐瞒不报(第九条第18项)。"
)
EIGHT_RULES = (
    "认真执行中央八项规定、省委“双十条”规定、市委“实施细则”以及高检院、省院的相关规定,"
    "坚决抵制“四风”,坚持不懈抓好作风建设(第四条第(四)项、第九条第11项)。"
)
ARTICLE_18 = (
    "甲乙双方不履行或者不正确履行主体责任,有《实施办法》第十八条规定情形之一的,应当严肃追究"
    "责任,包括:对上级交办的党风廉政建设责任范围内的事项不传达贯彻、不安排部署、不督促落实的;"
    "履行责任不力,导致职责范围内发生严重违反廉洁从检、作风建设有关规定和损害群众利益的问题的;"
    "职责范围内发生检察人员腐败犯罪案件,或者在较短时间内连续发生严重违纪违法问题的;"
    "对发生的严重违纪违法行为放任纵容、袒护包庇、压案不查,或阻止干扰纪检监察机构调查的;"
    "直接管辖的下属发生严重违纪违法问题,负有失教失管失察责任的;放任、纵容配偶、子女、身边"
    "工作人员严重违纪违法,在社会上造成恶劣影响的(第十八条)。"
)
ARTICLE_19 = (
    "乙方有前项情形之一,情节较轻的,给予批评教育、诫勉谈话、责令作出书面检查;情节较重的,给予"
    "通报批评;情节严重的,给予党纪检纪处分或组织处理;涉嫌犯罪的,移送司法机关依法处理。"
    "追究按组织程序进行(第十九条)。"
)
ARTICLE_20 = (
    "责任追究的方式包括党纪处分、检纪处分、组织处理和批评教育、诫勉谈话、责令作出书面检查、"
    "通报批评等,可以单独使用,也可以合并使用(第二十条)。"
)
ARTICLE_21 = (
    "不履行或者不正确履行主体责任,致使直接管辖的下属发生严重违纪违法问题的,实行“一案双查”,"
    "既追究当事人的责任,也倒查追究相关领导的责任;下属人员发生贪赃枉法、徇私舞弊、索贿受贿、"
    "刑讯逼供等重大犯罪案件,或违规、违纪、违法办案致当事人死亡、伤残、脱逃等重大责任事故的,"
    "倒查追究分管院领导责任(第二十一条)。"
)


def _parties(superior_label: str, subordinate_label: str) -> list[Block]:
    return [
        (PLAIN, f"{superior_label}:{{{{ superior_title }}}}　{{{{ superior_name }}}}"),
        (PLAIN, f"{subordinate_label}:{{{{ subordinate_title }}}}　{{{{ subordinate_name }}}}"),
        (TAG, "{%p if tier == 'leadership' and supervised_departments %}"),
        (PLAIN, "乙方分管部门:{{ supervised_departments|join('、') }}"),
        (TAG, "{%p endif %}"),
        (TAG, "{%p if department %}"),
        (
            PLAIN,
            "{% if tier == 'department' %}乙方负责部门{% else %}乙方所在部门{% endif %}:"
            "{{ department }}",
        ),
        (TAG, "{%p endif %}"),
    ]


def responsibility() -> list[Block]:
    """党风廉政建设责任书 (第九条第5项、第十条第3项、第十一条第2项)."""
    blocks = _common_head("党风廉政建设责任书")
    blocks += _parties("甲方(责任领导)", "乙方(责任人)")
    blocks += [
        (
            BODY,
            f"为落实党风廉政建设主体责任,根据{REGULATION}(以下简称《实施办法》){{{{ articles }}}}"
            "的规定,坚持集体领导和个人分工负责相结合、谁主管谁负责、逐级分解落实、严格责任追究的"
            "原则(第三条),以“明确职责、明确工作任务和要求、明确责任担当”为主要内容(第九条第5项),"
            "甲乙双方于{{ year }}年初面对面签订本责任书。",
        ),
        (H1, "一、明确职责"),
        (TAG, "{%p if tier == 'leadership' %}"),
        (H2, "(一)甲方职责"),
        (BODY, "甲方作为党组书记,对职责范围内党风廉政建设履行第一责任人的责任(第五条):"),
        *[(BODY, t) for t in ARTICLE_5],
        (H2, "(二)乙方职责"),
        (
            BODY,
            "乙方对职责范围内党风廉政建设负主要领导责任;乙方为检委会专职委员的,协助班子成员抓好"
            "党风廉政建设工作(第六条):",
        ),
        *[(BODY, t) for t in ARTICLE_6],
        (TAG, "{%p else %}"),
        (H2, "(一)甲方职责"),
        (BODY, "甲方作为分管院领导,对分管部门党风廉政建设负主要领导责任(第六条):"),
        *[(BODY, t) for t in ARTICLE_6],
        (H2, "(二)乙方职责"),
        (
            BODY,
            "乙方负责{{ department }}党风廉政建设工作,除履行本部门党风廉政建设责任外,还应当按照"
            "职能分工,承担党组履行主体责任的相关责任(第七条):",
        ),
        (
            BODY,
            "1.认真履行“一岗双责”,将党风廉政建设与本部门业务工作一并研究部署、一并组织实施"
            "(第三条、第十一条第1项)。",
        ),
        (
            BODY,
            "2.对本部门人员在纪律、作风、廉政方面存在的问题,及时提醒,抓早抓小,防微杜渐;对直接"
            "办案以及管理人、财、物、项目的岗位和人员,重点加强检查(第六条第(三)项、第十一条第2项)。",
        ),
        (
            BODY,
            "3.对发现的检察人员违纪违法问题线索,及时向分管院领导和党组报告(第十一条第4项)。",
        ),
        (TAG, "{%p if '办公室' in department %}"),
        (
            BODY,
            "4.履行协调督办责任。负责党风廉政建设重大事项协调,承担党组有关党风廉政建设决议事项"
            "落实督办等工作;负责党组有关党风廉政建设重要会议、重大活动的组织筹备协助协调工作"
            "(第七条第(一)项、第十二条第(一)项)。",
        ),
        (TAG, "{%p endif %}"),
        (TAG, "{%p if '政工' in department or '政治部' in department %}"),
        (
            BODY,
            "4.履行教育培训、宣传和舆情处置责任。将党风廉政建设各项规定和要求的认知纳入教育培训"
            "计划,做到逢培必训;宣传报道党风廉政建设重大决策部署、工作进展情况、经验做法,协调应对"
            "相关网络舆情;配合纪检组撰写党组履行主体责任情况的报告(第七条第(二)项、第十二条第(二)项)。",
        ),
        (TAG, "{%p endif %}"),
        (TAG, "{%p endif %}"),
        (H1, "二、明确工作任务和要求"),
        (TAG, "{%p if tier == 'leadership' %}"),
        (H2, "(一)甲方工作任务"),
        (
            BODY,
            "1.年初与乙方面对面签订《党风廉政建设责任书》和《公开承诺书》,年底对落实情况进行检查"
            "考核;经常了解乙方履行职责和遵守纪律情况,适时提出加强纪律作风和廉政建设的要求"
            "(第十条第3项)。",
        ),
        (BODY, "2.每年至少对乙方履行主体责任情况约谈1次(第十条第7项)。"),
        (
            BODY,
            "3.每年与乙方谈心谈话不少于1次,提出履行主体责任和廉洁从检要求(第十条第8项)。",
        ),
        (BODY, "4.每年至少为干警作1次党风廉政建设专题辅导报告(第十条第6项)。"),
        (
            BODY,
            "5.带头执行党的各项纪律,带头遵守廉洁从检各项规定,带头执行个人重大问题、重要事项请示"
            "报告制度,带头反对和纠正“四风”(第十条第4项)。",
        ),
        (H2, "(二)乙方工作任务"),
        (
            BODY,
            "1.认真履行“一岗双责”,在组织分管部门制定工作计划、推动工作落实、主持召开会议、开展"
            "调研指导等工作时,将党风廉政建设与业务工作一并研究部署、一并组织实施(第十一条第1项)。",
        ),
        (
            BODY,
            "2.年初与分管部门负责人签订《党风廉政建设责任书》,平时加强督促指导,年底对落实情况进行"
            "检查考核;对直接办案以及管理人、财、物、项目的岗位和人员,重点加强检查(第十一条第2项)。",
        ),
        (
            BODY,
            "3.认真落实“四个一”要求:每季度至少听取1次分管部门党风廉政建设情况汇报;每季度与分管"
            "部门负责人进行1次廉政谈话;每年至少同分管部门人员谈心谈话1次;每年至少为分管部门讲"
            "1次廉政党课(第十一条第6项)。",
        ),
        (
            BODY,
            "4.班子成员之间主动经常协调沟通,加强个人之间的相互帮助和廉政提醒;对发现的检察机关、"
            "检察人员重大违纪违法问题线索,及时向党组报告(第十一条第3项、第4项)。",
        ),
        (BODY, "5.积极支持纪检监察机构履行监督执纪问责职责(第十一条第5项)。"),
        (BODY, "6." + REPORTING),
        (BODY, "7.从严管理配偶、子女及身边工作人员,自觉接受监督(第十条第5项)。"),
        (TAG, "{%p else %}"),
        (H2, "(一)甲方工作任务"),
        (
            BODY,
            "1.年初与乙方签订《党风廉政建设责任书》,平时加强督促指导,年底对落实情况进行检查考核"
            "(第十一条第2项)。",
        ),
        (
            BODY,
            "2.认真落实“四个一”要求:每季度至少听取1次乙方所在部门党风廉政建设情况汇报;每季度与"
            "乙方进行1次廉政谈话;每年至少同该部门人员谈心谈话1次;每年至少为该部门讲1次廉政党课"
            "(第十一条第6项)。",
        ),
        (H2, "(二)乙方工作任务"),
        (
            BODY,
            "1.及时与本部门工作人员签订以“廉洁从检和违诺承担”为主要内容的《廉洁从检承诺书》"
            "(第九条第7项)。",
        ),
        (
            BODY,
            "2.每季度向甲方汇报1次本部门党风廉政建设情况,按时参加甲方组织的廉政谈话(第十一条第6项)。",
        ),
        (BODY, "3." + EIGHT_RULES),
        (BODY, "4." + REPORTING),
        (TAG, "{%p endif %}"),
        (H1, "三、明确责任担当"),
        (
            BODY,
            "1.不履行或不正确履行主体责任、监督责任,导致发生严重违纪违法行为的,应当严肃追究有关"
            "责任人员的责任(第十五条)。",
        ),
        (BODY, "2." + ARTICLE_18),
        (TAG, "{%p if tier == 'leadership' %}"),
        (BODY, "3." + ARTICLE_19),
        (TAG, "{%p else %}"),
        (BODY, "3." + ARTICLE_20),
        (TAG, "{%p endif %}"),
        (BODY, "4." + ARTICLE_21),
        (H1, "四、其他"),
        (
            BODY,
            "{{ year }}年底由甲方对乙方落实本责任书情况进行检查考核({% if tier == 'leadership' %}"
            "第十条第3项{% else %}第十一条第2项{% endif %})。"
            "本责任书一式两份,甲乙双方各执一份,经双方签名后生效,有效期至{{ year }}年12月31日。",
        ),
    ]
    return blocks


def public_commitment() -> list[Block]:
    """公开承诺书 (第九条第6项、第十条第3项)."""
    blocks = _common_head("公开承诺书")
    blocks += _parties("甲方(责任领导)", "乙方(承诺人)")
    blocks += [
        (
            BODY,
            f"根据{REGULATION}(以下简称《实施办法》){{{{ articles }}}}的规定,乙方与甲方面对面签订"
            "本承诺书,向组织和全院干警公开承诺如下:",
        ),
        (H1, "一、认真履行党风廉政建设责任"),
        (TAG, "{%p if tier == 'leadership' %}"),
        (
            BODY,
            "1.对职责范围内党风廉政建设负主要领导责任,认真履行过问了解、督促检查、告诫提醒、沟通"
            "汇报责任(第六条)。",
        ),
        (
            BODY,
            "2.认真履行“一岗双责”,将党风廉政建设与分管业务工作一并研究部署、一并组织实施"
            "(第十一条第1项)。",
        ),
        (TAG, "{%p else %}"),
        (
            BODY,
            "1.除履行本部门党风廉政建设责任外,按照职能分工,承担党组履行主体责任的相关责任(第七条)。",
        ),
        (
            BODY,
            "2.认真履行“一岗双责”,将党风廉政建设与本部门业务工作一并研究部署、一并组织实施"
            "(第三条、第十一条第1项)。",
        ),
        (TAG, "{%p endif %}"),
        (
            BODY,
            "3.加强对管辖和分管部门党员干部和工作人员的经常性教育、监督和管理;对发现的纪律、作风、"
            "廉政方面的问题,及时提醒,抓早抓小,防微杜渐(第五条第(三)项、第六条第(三)项)。",
        ),
        (BODY, "4." + EIGHT_RULES),
        (BODY, "5." + REPORTING),
        (
            BODY,
            "6.从严管理配偶、子女及身边工作人员,自觉接受纪检监察机构的监督检查(第九条第22项、"
            "第十条第5项)。",
        ),
        (H1, "二、自愿接受组织调查和承担连带责任"),
        (
            BODY,
            "1.因个人责任不到位、工作不力,导致管辖和分管部门的党员干部和工作人员发生严重违纪违法"
            "问题,自愿接受组织调查和承担连带责任(第九条第6项)。",
        ),
        (
            BODY,
            "2.直接管辖的下属发生严重违纪违法问题,本人负有失教失管失察责任的,接受组织严肃追究"
            "(第十八条第7项)。",
        ),
        (BODY, "3." + ARTICLE_21),
        (TAG, "{%p if tier == 'leadership' %}"),
        (
            BODY,
            "4.有《实施办法》第十八条规定情形之一,情节较轻的,接受批评教育、诫勉谈话、责令作出书面"
            "检查;情节较重的,接受通报批评;情节严重的,接受党纪检纪处分或组织处理;涉嫌犯罪的,移送"
            "司法机关依法处理(第十九条)。",
        ),
        (TAG, "{%p else %}"),
        (BODY, "4." + ARTICLE_20),
        (TAG, "{%p endif %}"),
        (H1, "三、接受监督"),
        (
            BODY,
            "本承诺书在本院公开,接受组织和全院干警监督。本承诺书一式两份,甲乙双方各执一份,经双方"
            "签名后生效,有效期至{{ year }}年12月31日。",
        ),
    ]
    return blocks


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
        (
            BODY,
            "1.做信念坚定、执法为民、敢于担当、清正廉洁的检察人员(第四条第(七)项)。",
        ),
        (BODY, "2." + EIGHT_RULES),
        (
            BODY,
            "3.严格遵守《检察人员廉洁从检若干规定》和《甘肃省检察机关工作人员廉洁从检承诺规定》"
            "(第二十二条第2项)。",
        ),
        (
            BODY,
            "4.依纪依规依法办事;认真解决和妥善处理上访群众诉求,坚持理性、平和、文明、规范接待,"
            "依法依规公正办理,不侵害群众利益(第五条第(四)项、第九条第13项、第14项)。",
        ),
        (
            BODY,
            "5.在检察权运行、执法办案、人财物管理等重点环节严格执行制度规定,不贪赃枉法、徇私舞弊、"
            "索贿受贿、刑讯逼供,不违规、违纪、违法办案(第九条第15项、第二十一条第2项)。",
        ),
        (
            BODY,
            "6.认真落实《党政机关厉行节约反对浪费条例》、《党政机关国内公务接待管理规定》"
            "(第九条第12项)。",
        ),
        (BODY, "7." + REPORTING),
        (
            BODY,
            "8.自觉接受纪检组和甲方对本人廉洁从检情况的监督检查(第八条第(二)项、第九条第22项)。",
        ),
        (H1, "二、违诺承担"),
        (BODY, "1.违反上述承诺的,本人自愿接受组织调查,承担相应责任(第九条第7项)。"),
        (
            BODY,
            "2.有轻微违纪尚不够纪律处分,或者有苗头性倾向性问题的,接受警示提醒、训诫督导、责令纠错"
            "(第十三条第13项)。",
        ),
        (
            BODY,
            "3.查明确有违纪违规行为的,接受党纪检纪处理,构成犯罪的,移送司法机关处理(第十三条"
            "第12项);" + ARTICLE_20,
        ),
        (H1, "三、甲方责任"),
        (
            BODY,
            "1.甲方加强对乙方的经常性教育、监督和管理,对发现的纪律、作风、廉政方面的问题,及时提醒,"
            "抓早抓小,防微杜渐(第五条第(三)项、第六条第(三)项)。",
        ),
        (
            BODY,
            "2.乙方发生严重违纪违法问题,甲方负有失教失管失察责任的,依照《实施办法》第十八条第7项、"
            "第二十一条追究甲方责任。",
        ),
        (H1, "四、其他"),
        (
            BODY,
            "本承诺书一式两份,甲乙双方各执一份,经双方签名后生效,有效期至{{ year }}年12月31日。",
        ),
    ]
    return blocks


LETTERS = {
    LetterKind.RESPONSIBILITY: responsibility,
    LetterKind.PUBLIC_COMMITMENT: public_commitment,
    LetterKind.INTEGRITY_PLEDGE: integrity_pledge,
}

# How the subordinate is called in each letter's signature block.
SUBORDINATE_LABEL = {
    LetterKind.RESPONSIBILITY: "乙方(责任人)",
    LetterKind.PUBLIC_COMMITMENT: "乙方(承诺人)",
    LetterKind.INTEGRITY_PLEDGE: "乙方(承诺人)",
}


# --------------------------------------------------------------------------- formatting


def set_fonts(rpr: Any, font: str) -> None:
    """Name ``font`` for every script, East Asian included (python-docx sets only two)."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        style = rpr.find(qn("w:rStyle"))
        rpr.insert(0 if style is None else 1, rfonts)  # schema order: rStyle, rFonts, …
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font)


def _first_line_chars(ppr: Any, chars: int, twips: int) -> None:
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    ind.set(qn("w:firstLineChars"), str(chars * 100))
    ind.set(qn("w:firstLine"), str(twips))


STYLE_SPECS: dict[str, dict[str, Any]] = {
    # id: name shown in Word, font, size pt, alignment, exact line pt, indent chars, outline level
    "DocTitle": dict(name="公文标题", font=FONTS.title, size=22, align="center", line=36),
    "DocSubtitle": dict(
        name="公文副标题", font=FONTS.subheading, size=16, align="center", after=28
    ),
    "DocHeading1": dict(name="公文一级标题", font=FONTS.heading, size=16, indent=2, outline=0),
    "DocHeading2": dict(name="公文二级标题", font=FONTS.subheading, size=16, indent=2, outline=1),
    "DocPlain": dict(name="公文无缩进正文", font=FONTS.body, size=16, align="left"),
    "DocSign": dict(name="公文落款", font=FONTS.body, size=16, align="left"),
    "PageNumber": dict(name="公文页码", font=FONTS.page_number, size=14, line=None),
    "DocId": dict(name="公文文书编号", font=FONTS.page_number, size=10.5, line=None),
}
STYLE_FOR = {
    TITLE: "DocTitle",
    SUBTITLE: "DocSubtitle",
    H1: "DocHeading1",
    H2: "DocHeading2",
    BODY: "Normal",
    PLAIN: "DocPlain",
    TAG: "DocPlain",
}
ALIGN = {
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "both": WD_ALIGN_PARAGRAPH.JUSTIFY,
}
KEEP_STYLES = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList", "TableGrid"}


def _prune_styles(doc: Any) -> None:
    """Drop the hundred table and list styles of python-docx's default template."""
    root = doc.styles.element
    for style in root.findall(qn("w:style")):
        if style.get(qn("w:styleId")) not in KEEP_STYLES:
            root.remove(style)


def _defaults(doc: Any) -> None:
    root = doc.styles.element
    rpr = root.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for child in list(rpr):
        rpr.remove(child)
    set_fonts(rpr, FONTS.body)
    for tag, val in (("w:sz", "32"), ("w:szCs", "32")):
        el = OxmlElement(tag)
        el.set(qn("w:val"), val)
        rpr.append(el)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    lang.set(qn("w:bidi"), "ar-SA")
    rpr.append(lang)
    ppr = root.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "560")
    spacing.set(qn("w:lineRule"), "exact")


def _paragraph_style(style: Any, spec: dict[str, Any]) -> None:
    style.font.size = Pt(spec["size"])
    set_fonts(style.element.get_or_add_rPr(), spec["font"])
    fmt = style.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(spec.get("after", 0))
    line = spec.get("line", 28)
    if line is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(line)
    fmt.alignment = ALIGN[spec.get("align", "both")]
    chars = spec.get("indent", 0)
    fmt.first_line_indent = Pt(spec["size"] * chars)
    _first_line_chars(style.element.get_or_add_pPr(), chars, int(spec["size"] * chars * 20))
    if "outline" in spec:
        fmt.keep_with_next = True
        level = OxmlElement("w:outlineLvl")
        level.set(qn("w:val"), str(spec["outline"]))
        style.element.get_or_add_pPr().append(level)


def _styles(doc: Any) -> None:
    _prune_styles(doc)
    _defaults(doc)
    normal = doc.styles["Normal"]
    _paragraph_style(normal, dict(font=FONTS.body, size=16, indent=2))
    normal.font.name = FONTS.body
    # 28 characters a line: 156 mm / 28 = 15.79 pt a character, so condense 16 pt text by 0.25 pt.
    # (A Word character grid would do the same, but LibreOffice and WPS misread its charSpace.)
    condense = OxmlElement("w:spacing")
    condense.set(qn("w:val"), "-5")
    normal.element.get_or_add_rPr().find(qn("w:sz")).addprevious(condense)  # schema order
    set_fonts(normal.element.get_or_add_rPr(), FONTS.body)
    for style_id, spec in STYLE_SPECS.items():
        style = doc.styles.add_style(spec["name"], WD_STYLE_TYPE.PARAGRAPH)
        style.style_id = style_id
        style.base_style = normal
        style.quick_style = True
        _paragraph_style(style, spec)


def _font_of(style_id: str) -> str:
    if style_id == "Normal":
        return FONTS.body
    return str(STYLE_SPECS[style_id]["font"])


_TAG = re.compile(r"(\{\{.*?\}\}|\{%.*?%\})")
_FULLWIDTH = str.maketrans(
    {",": "\uff0c", ";": "\uff1b", ":": "\uff1a", "(": "\uff08", ")": "\uff09"}
)


def fullwidth(text: str) -> str:
    """Chinese punctuation outside placeholders (the seed's text uses ASCII commas and brackets)."""
    parts = _TAG.split(text)
    return "".join(p if i % 2 else p.translate(_FULLWIDTH) for i, p in enumerate(parts))


def _paragraph(doc: Any, container: Any, text: str, style_id: str, reuse: bool = False) -> Any:
    """One paragraph, one run: a placeholder is never split across runs."""
    text = fullwidth(text)
    style = doc.styles.get_by_id(style_id, WD_STYLE_TYPE.PARAGRAPH)
    if reuse:
        paragraph = container.paragraphs[0]
        paragraph.style = style
    else:
        paragraph = container.add_paragraph(style=style)
    if text:
        run = paragraph.add_run(text)
        set_fonts(run._r.get_or_add_rPr(), _font_of(style_id))
    return paragraph


def _page_field(paragraph: Any, font: str) -> None:
    """``— PAGE —`` as a real field, so Word and WPS number the pages."""

    def run(text: str | None = None, field: str | None = None, instr: str | None = None) -> None:
        r = paragraph.add_run()
        set_fonts(r._r.get_or_add_rPr(), font)
        if text is not None:
            r.text = text
        if field is not None:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), field)
            r._r.append(el)
        if instr is not None:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = instr
            r._r.append(el)

    run("— ")
    run(field="begin")
    run(instr=" PAGE ")
    run(field="separate")
    run("1")
    run(field="end")
    run(" —")


def _footer(doc: Any, footer: Any, align: str) -> None:
    footer.is_linked_to_previous = False
    first = _paragraph(doc, footer, "", "PageNumber", reuse=True)
    first.alignment = ALIGN[align]
    # GB/T 9704: 单页码居右空一字,双页码居左空一字.
    if align == "right":
        first.paragraph_format.right_indent = Pt(14)
    else:
        first.paragraph_format.left_indent = Pt(14)
    _page_field(first, FONTS.page_number)
    odd = align == "right"  # under it: 编号 outer, 核验码 inner beside the QR code (footer_qr.py)
    code, doc_id = "核验码:{{ verify_code }}", "编号:{{ doc_id }}"
    line = _paragraph(doc, footer, f"{code}\t{doc_id}" if odd else f"{doc_id}\t{code}", "DocId")
    set_fonts(code_line_with_qr(line, inner_left=odd, outer_indent=Pt(14)), FONTS.page_number)


def _section(doc: Any) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    set_official_page(section, footer_distance_mm=18)
    doc.settings.odd_and_even_pages_header_footer = True
    # 22 lines: 225 mm / 22 = 28.95 pt line pitch (the exact 28 pt spacing of the styles governs).
    grid = section._sectPr.find(qn("w:docGrid"))
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), "579")
    _footer(doc, section.footer, "right")
    _footer(doc, section.even_page_footer, "left")


def _signature_table(doc: Any, kind: LetterKind) -> None:
    """Both parties side by side: name, title, a line to sign on, a date to fill in."""
    _paragraph(doc, doc, "", "DocPlain")
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    parties = (
        ("甲方(责任领导)", "superior"),
        (SUBORDINATE_LABEL[kind], "subordinate"),
    )
    for cell, (label, who) in zip(table.rows[0].cells, parties, strict=True):
        cell.width = Mm(78)
        _paragraph(doc, cell, f"{label}:{{{{ {who}_name }}}}", "DocSign", reuse=True)
        for line in (f"职务:{{{{ {who}_title }}}}", "签名:______________", "日期:____年__月__日"):
            _paragraph(doc, cell, line, "DocSign")


def _settings(doc: Any) -> None:
    root = doc.settings.element
    preview = root.find(qn("w:savePreviewPicture"))
    if preview is not None:
        root.remove(preview)
    lang = root.find(qn("w:themeFontLang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")


def _drop_parts(doc: Any) -> None:
    """Keep only what a letter needs: no thumbnail, custom XML or Word 2010 style copy."""
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package.rels[rid]
    unwanted = {
        RT.CUSTOM_XML,
        "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects",
    }
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype in unwanted:
            del doc.part.rels[rid]


# Font table entries, so Word and WPS substitute sensibly where a 公文 font is not installed
# (Windows ships 仿宋 and 楷体, not their _GB2312 variants).  GB2312 charset is 86.
FONT_TABLE = (
    (FONTS.title, "宋体", "roman", "variable"),
    (FONTS.body, "仿宋", "modern", "fixed"),
    (FONTS.subheading, "楷体", "modern", "fixed"),
    (FONTS.heading, "SimHei", "modern", "fixed"),
    (FONTS.page_number, "SimSun", "auto", "variable"),
)


def _font_table(doc: Any) -> None:
    for part in doc.part.package.iter_parts():
        if str(part.partname) == "/word/fontTable.xml":
            entries = "".join(
                f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
                f'<w:family w:val="{family}"/><w:pitch w:val="{pitch}"/></w:font>'
                for name, alt, family, pitch in FONT_TABLE
            )
            part._blob = part.blob.replace(b"</w:fonts>", entries.encode("utf-8") + b"</w:fonts>")


APP_XML = (
    b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
    b' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    b"<Application>docgen</Application><DocSecurity>0</DocSecurity></Properties>"
)


def _app_properties(doc: Any) -> None:
    for part in doc.part.package.iter_parts():
        if str(part.partname) == "/docProps/app.xml":
            part._blob = APP_XML


def build(kind: LetterKind) -> bytes:
    """The template for ``kind``, as .docx bytes."""
    from datetime import datetime

    doc = Document()
    _drop_parts(doc)
    _app_properties(doc)
    _font_table(doc)
    _settings(doc)
    _styles(doc)
    body = doc.element.body
    for paragraph in list(body.iterchildren(qn("w:p"))):
        body.remove(paragraph)
    _section(doc)
    for style, text in LETTERS[kind]():
        _paragraph(doc, doc, text, STYLE_FOR[style])
    _signature_table(doc, kind)
    props = doc.core_properties
    props.title = kind.title
    props.subject = "依据《落实党风廉政建设主体责任和监督责任实施办法(试行)》第九条"
    props.author = ""
    props.comments = "docgen 模板:可在 Word/WPS 中修改文字,双花括号中的占位符请整体保留"
    props.keywords = "党风廉政建设"
    props.language = "zh-CN"
    props.last_modified_by = "docgen"
    props.revision = 1
    props.created = datetime(TEMPLATE_YEAR, 1, 1)
    props.modified = datetime(TEMPLATE_YEAR, 1, 1)
    name_qr_media(doc)
    out = io.BytesIO()
    doc.save(out)
    return normalize_package(out.getvalue(), year=TEMPLATE_YEAR)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成 templates/*.docx 模板")
    parser.add_argument("--out", type=Path, default=HERE, help="输出目录(默认为本目录)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for kind in LetterKind:
        path = args.out / f"{kind.value}.docx"
        path.write_bytes(build(kind))
        print(f"{path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
