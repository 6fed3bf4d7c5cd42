"""Fictional rosters: a whole county procuratorate for ``docgen demo`` and a small example
for ``docgen init``.

Every name here is invented. The demo roster is shaped to exercise the pairing rules:

* the 党组书记 himself supervises a department (案件管理部), so he signs at two tiers;
* 副检察长 王建华 (P003) supervises 第三检察部 and 第四检察部 and is also the head of
  第四检察部: he does not sign with himself (the skip rule, reported in a note), and the
  members of 第四检察部 sign their 《廉洁从检承诺书》 with him;
* the 纪检组长 supervises no department (article 8: 纪检组 keeps to its own work);
* 政工科 has a member with a name containing ``·`` (阿依古丽·买买提).

It passes ``docgen roster check`` without errors; the one warning is the leader heading a
department, which is allowed.
"""

from __future__ import annotations

import json

from docgen.core.glossary import INSTITUTION_DEFAULT


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar; JSON string syntax is valid YAML."""
    return json.dumps(text, ensure_ascii=False)


_DEMO_BODY = """\
people:
  # 院领导(党组)
  - {id: P001, name: 张明远, title: 党组书记、检察长, role: 党组书记}
  - {id: P002, name: 李卫东, title: 党组成员、副检察长, role: 班子成员}
  - {id: P003, name: 王建华, title: 党组成员、副检察长, role: 班子成员}
  - {id: P004, name: 赵丽萍, title: 党组成员、副检察长, role: 班子成员}
  - {id: P005, name: 陈志刚, title: 党组成员、纪检组长, role: 纪检组长}
  - {id: P006, name: 刘海燕, title: 党组成员、政治部主任, role: 班子成员}
  - {id: P007, name: 杨文斌, title: 检察委员会专职委员, role: 检委会专职委员}
  - {id: P008, name: 周晓梅, title: 检察委员会专职委员, role: 检委会专职委员}
  # 办公室
  - {id: P009, name: 马俊峰, title: 办公室主任, role: 部门负责人}
  - {id: P010, name: 宋佳琪, title: 办公室副主任, role: 工作人员}
  - {id: P011, name: 唐浩然, title: 文秘, role: 工作人员}
  - {id: P012, name: 韩雨桐, title: 档案管理员, role: 工作人员}
  - {id: P013, name: 冯子豪, title: 机要员, role: 工作人员}
  # 政工科
  - {id: P014, name: 胡静, title: 政工科科长, role: 部门负责人}
  - {id: P015, name: 曹婉清, title: 科员, role: 工作人员}
  - {id: P016, name: 彭宇航, title: 科员, role: 工作人员}
  - {id: P017, name: 阿依古丽·买买提, title: 科员, role: 工作人员}
  # 第一检察部
  - {id: P018, name: 郭志强, title: 第一检察部主任, role: 部门负责人}
  - {id: P019, name: 许文博, title: 检察官, role: 工作人员}
  - {id: P020, name: 邓欣怡, title: 检察官, role: 工作人员}
  - {id: P021, name: 萧景行, title: 检察官助理, role: 工作人员}
  - {id: P022, name: 程思远, title: 检察官助理, role: 工作人员}
  - {id: P023, name: 袁梦瑶, title: 书记员, role: 工作人员}
  # 第二检察部
  - {id: P024, name: 何雪芳, title: 第二检察部主任, role: 部门负责人}
  - {id: P025, name: 蒋天佑, title: 检察官, role: 工作人员}
  - {id: P026, name: 蔡晓琳, title: 检察官, role: 工作人员}
  - {id: P027, name: 贾明哲, title: 检察官助理, role: 工作人员}
  - {id: P028, name: 丁若溪, title: 书记员, role: 工作人员}
  # 第三检察部
  - {id: P029, name: 高建军, title: 第三检察部主任, role: 部门负责人}
  - {id: P030, name: 魏振国, title: 检察官, role: 工作人员}
  - {id: P031, name: 薛佳慧, title: 检察官, role: 工作人员}
  - {id: P032, name: 叶承泽, title: 检察官助理, role: 工作人员}
  - {id: P033, name: 阎秋实, title: 书记员, role: 工作人员}
  # 第四检察部(负责人由副检察长王建华 P003 兼任)
  - {id: P034, name: 余海波, title: 检察官, role: 工作人员}
  - {id: P035, name: 潘静怡, title: 检察官助理, role: 工作人员}
  - {id: P036, name: 杜明轩, title: 书记员, role: 工作人员}
  # 综合业务部
  - {id: P037, name: 林晓东, title: 综合业务部主任, role: 部门负责人}
  - {id: P038, name: 戴雨萱, title: 检察官助理, role: 工作人员}
  - {id: P039, name: 夏俊杰, title: 科员, role: 工作人员}
  # 检务保障部
  - {id: P040, name: 罗春生, title: 检务保障部主任, role: 部门负责人}
  - {id: P041, name: 钟国庆, title: 司法警察, role: 工作人员}
  - {id: P042, name: 汪晓燕, title: 会计, role: 工作人员}
  # 案件管理部
  - {id: P043, name: 梁玉兰, title: 案件管理部主任, role: 部门负责人}
  - {id: P044, name: 田书瑶, title: 案件管理员, role: 工作人员}
  - {id: P045, name: 任嘉诚, title: 案件管理员, role: 工作人员}

# function(职能):第七条所指的相关职能部门,填 办公室、政工科 或 无(不填则按部门名称认定)
departments:
  - {name: 办公室, function: 办公室, head: P009, supervisor: P006,
     members: [P010, P011, P012, P013]}
  - {name: 政工科, function: 政工科, head: P014, supervisor: P006, members: [P015, P016, P017]}
  - {name: 第一检察部, head: P018, supervisor: P002, members: [P019, P020, P021, P022, P023]}
  - {name: 第二检察部, head: P024, supervisor: P002, members: [P025, P026, P027, P028]}
  - {name: 第三检察部, head: P029, supervisor: P003, members: [P030, P031, P032, P033]}
  # 副检察长王建华既分管又兼任负责人:不与自己签订责任书,本部门成员与他签订承诺书
  - {name: 第四检察部, head: P003, supervisor: P003, members: [P034, P035, P036]}
  - {name: 综合业务部, head: P037, supervisor: P004, members: [P038, P039]}
  - {name: 检务保障部, head: P040, supervisor: P004, members: [P041, P042]}
  # 党组书记本人分管案件管理部
  - {name: 案件管理部, head: P043, supervisor: P001, members: [P044, P045]}
"""

_EXAMPLE_BODY = """\
# 人员:id 为编号(英文字母、数字、_ 或 -,会用于文件名和文书编号),
# role 为角色:党组书记、班子成员、纪检组长、检委会专职委员、部门负责人、工作人员。
people:
  - {id: P001, name: 张明远, title: 党组书记、检察长, role: 党组书记}
  - {id: P002, name: 李卫东, title: 党组成员、副检察长, role: 班子成员}
  - {id: P003, name: 陈志刚, title: 党组成员、纪检组长, role: 纪检组长}
  - {id: P004, name: 马俊峰, title: 办公室主任, role: 部门负责人}
  - {id: P005, name: 宋佳琪, title: 科员, role: 工作人员}
  - {id: P006, name: 郭志强, title: 第一检察部主任, role: 部门负责人}
  - {id: P007, name: 许文博, title: 检察官, role: 工作人员}
  - {id: P008, name: 袁梦瑶, title: 书记员, role: 工作人员}

# 部门:head 为部门负责人编号,supervisor 为分管院领导编号,members 为本部门工作人员编号;
# function(职能)为第七条所指的相关职能部门:办公室、政工科 或 无(不填则按部门名称认定)。
departments:
  - {name: 办公室, function: 办公室, head: P004, supervisor: P001, members: [P005]}
  - {name: 第一检察部, head: P006, supervisor: P002, members: [P007, P008]}
"""


def demo_roster_yaml(institution: str = INSTITUTION_DEFAULT) -> str:
    """The fictional procuratorate of ``docgen demo``: 45 people, 9 departments.

    With the default pairing options it yields 15 责任书, 15 公开承诺书 and 29 廉洁从检承诺书
    (see ``tests/roster/test_hierarchy.py`` for how the numbers follow from the roster).
    """
    return (
        f"# 演示用名册:单位与人员均为虚构。\ninstitution: {_quoted(institution)}\n\n" + _DEMO_BODY
    )


def example_roster_yaml(institution: str = INSTITUTION_DEFAULT) -> str:
    """A small roster for ``docgen init`` to start from: 8 people, 2 departments."""
    return (
        "# 名册示例(人员均为虚构):请替换为本院的实际人员后运行 docgen roster check。\n"
        "# 也可以用 docgen roster import 人员表.xlsx --force 从 Excel/CSV 人员表生成。\n"
        f"institution: {_quoted(institution)}\n\n" + _EXAMPLE_BODY
    )
