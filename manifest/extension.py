#!/usr/bin/env python3
"""Writes the Webhook1C configuration extension as a Designer XML dump.

    manifest/extension.py VERSION PACKAGE_ZIP OUT_DIR BSLFMT

OUT_DIR receives the dump that `1cv8 DESIGNER /LoadConfigFromFiles OUT_DIR
-Extension Webhook1C` (or EDT's import) reads, in format 2.17 (what platforms
8.3.17-8.3.24 write), and OUT_DIR.zip the same files zipped. The extension
(purpose AddOn, name prefix Webhook1C_) holds:

- the common template Webhook1C_Компонента (Add-in), whose body is
  PACKAGE_ZIP byte for byte;
- the common modules of 1c-samples/ОбщиеМодули, prefixed, their flags read
  from each module's header line "Свойства модуля: ...", their code the same
  files with the names of our objects prefixed (see `prefixed`) and then
  formatted by BSLFMT (the bslfmt program, pinned as tests/run.sh pins it);
- the transactional outbox: the register Webhook1C_ИсходящиеВебхуки, the
  scheduled job that hands its records to the add-in's queue, two roles;
- the data processor Webhook1C_АдминистрированиеВебхуков with a managed form
  (queue counts, failed messages, send again, a test webhook), its module
  1c-samples/Обработки/АдминистрированиеВебхуков/Форма.bsl;
- the language Русский, borrowed and mapped by name.

Where each element's shape comes from is written in
tests/extension/SOURCES.md; tests/extension/check.py checks the result.
Every uuid is derived from the object's name (uuid5), so a new version of
the dump keeps the uuids of the last one. Only the Python standard library
is used.
"""

import hashlib
import re
import subprocess
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "1c-samples"

FORMAT = "2.17"
NAME = "Webhook1C"
PREFIX = "Webhook1C_"
# The platform minimum that 1c-samples/README.md states.
COMPATIBILITY = "Version8_3_18"
UUID_SPACE = uuid.UUID("0b6a1f3e-5c2d-4e7a-9f41-1c0de5ab1e1c")

TEMPLATE = PREFIX + "Компонента"
REGISTER = PREFIX + "ИсходящиеВебхуки"
JOB = PREFIX + "ОтправкаИсходящихВебхуков"
PROCESSOR = PREFIX + "АдминистрированиеВебхуков"
ROLE_WRITE = PREFIX + "ЗаписьИсходящихВебхуков"
ROLE_ADMIN = PREFIX + "АдминистрированиеВебхуков"
FORM = "Форма"
FORM_MODULE = SAMPLES / "Обработки" / "АдминистрированиеВебхуков" / "Форма.bsl"

# The names the samples give our objects, and the ones they have in the
# extension. The template is named by a string ("ОбщийМакет.Webhook1C").
MODULES = ["Вебхуки", "ВебхукиКлиент", "ВебхукиКлиентСервер", "ВебхукиИсходящие"]
TEMPLATE_REF = ('"ОбщийМакет.Webhook1C"', '"ОбщийМакет.' + TEMPLATE + '"')

# Namespace URIs by prefix, and the prefixes each kind of root declares, in
# the order real dumps write them (SOURCES.md §0.1).
URIS = {
    "app": "http://v8.1c.ru/8.2/managed-application/core",
    "cfg": "http://v8.1c.ru/8.1/data/enterprise/current-config",
    "cmi": "http://v8.1c.ru/8.2/managed-application/cmi",
    "dcscor": "http://v8.1c.ru/8.1/data-composition-system/core",
    "dcssch": "http://v8.1c.ru/8.1/data-composition-system/schema",
    "dcsset": "http://v8.1c.ru/8.1/data-composition-system/settings",
    "ent": "http://v8.1c.ru/8.1/data/enterprise",
    "lf": "http://v8.1c.ru/8.2/managed-application/logform",
    "style": "http://v8.1c.ru/8.1/data/ui/style",
    "sys": "http://v8.1c.ru/8.1/data/ui/fonts/system",
    "v8": "http://v8.1c.ru/8.1/data/core",
    "v8ui": "http://v8.1c.ru/8.1/data/ui",
    "web": "http://v8.1c.ru/8.1/data/ui/colors/web",
    "win": "http://v8.1c.ru/8.1/data/ui/colors/windows",
    "xen": "http://v8.1c.ru/8.3/xcf/enums",
    "xpr": "http://v8.1c.ru/8.3/xcf/predef",
    "xr": "http://v8.1c.ru/8.3/xcf/readable",
    "xs": "http://www.w3.org/2001/XMLSchema",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}


def declare(default, prefixes):
    return " ".join(
        ['xmlns="%s"' % default] + ['xmlns:%s="%s"' % (p, URIS[p]) for p in prefixes.split()]
    )


MD_NAMESPACES = declare(
    "http://v8.1c.ru/8.3/MDClasses",
    "app cfg cmi ent lf style sys v8 v8ui web win xen xpr xr xs xsi",
)
FORM_NAMESPACES = declare(
    "http://v8.1c.ru/8.3/xcf/logform",
    "app cfg dcscor dcssch dcsset ent lf style sys v8 v8ui web win xr xs xsi",
)
RIGHTS_NAMESPACES = (
    'xmlns="http://v8.1c.ru/8.2/roles" '
    'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Rights"'
)
DUMPINFO_NAMESPACES = (
    'xmlns="http://v8.1c.ru/8.3/xcf/dumpinfo" '
    'xmlns:xen="http://v8.1c.ru/8.3/xcf/enums" '
    'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" format="Hierarchical"'
)
SCHEDULE_NAMESPACES = (
    'xmlns="http://v8.1c.ru/8.3/xcf/extrnprops" '
    'xmlns:ent="http://v8.1c.ru/8.1/data/enterprise" '
    'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)

# The ClassIds of the seven objects every extension root contains, in the
# order every dump writes them: the table of SOURCES.md §1.2.
SOURCES_MD = ROOT / "tests" / "extension" / "SOURCES.md"
CONTAINED_CLASS_IDS = re.findall(r"^\s*\| \d \| `([0-9a-f-]{36})` \|", SOURCES_MD.read_text("utf-8"), re.M)

# The flags of a common module as the header line of its .bsl names them.
MODULE_FLAGS = {
    "Глобальный": "Global",
    "Клиент (управляемое приложение)": "ClientManagedApplication",
    "Сервер": "Server",
    "Внешнее соединение": "ExternalConnection",
    "Клиент (обычное приложение)": "ClientOrdinaryApplication",
    "Вызов сервера": "ServerCall",
    "Привилегированный": "Privileged",
}
MODULE_FLAG_ORDER = [
    "Global",
    "ClientManagedApplication",
    "Server",
    "ExternalConnection",
    "ClientOrdinaryApplication",
    "ServerCall",
    "Privileged",
]


def uid(key):
    """The uuid of one element of the dump, stable across versions."""
    return str(uuid.uuid5(UUID_SPACE, key))


# ---- a small XML writer: elements as (tag, attributes, content) ----------------


def el(tag, content=None, **attrs):
    """An element; content is None (empty), a str (text) or a list of elements."""
    return (tag, attrs, content)


def render(node, depth, out):
    tag, attrs, content = node
    pad = "\t" * depth
    attr_text = "".join(
        " %s=%s" % (k.replace("__", ":"), quoteattr(v)) for k, v in attrs.items()
    )
    if content is None or content == []:
        out.append("%s<%s%s/>" % (pad, tag, attr_text))
    elif isinstance(content, str):
        out.append("%s<%s%s>%s</%s>" % (pad, tag, attr_text, escape(content), tag))
    else:
        out.append("%s<%s%s>" % (pad, tag, attr_text))
        for child in content:
            render(child, depth + 1, out)
        out.append("%s</%s>" % (pad, tag))


def document(root_tag, namespaces, children):
    """A whole file as the Designer writes it: BOM, CRLF, tabs, no final newline."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    lines.append("<%s %s version=\"%s\">" % (root_tag, namespaces, FORMAT))
    for child in children:
        render(child, 1, lines)
    lines.append("</%s>" % root_tag)
    return b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8")


def text(value):
    return el("v8:item", [el("v8:lang", "ru"), el("v8:content", value)])


def localized(tag, value):
    return el(tag, [text(value)] if value else None)


def string_type(length=0):
    return [
        el("v8:Type", "xs:string"),
        el(
            "v8:StringQualifiers",
            [el("v8:Length", str(length)), el("v8:AllowedLength", "Variable")],
        ),
    ]


def number_type(digits=10):
    return [
        el("v8:Type", "xs:decimal"),
        el(
            "v8:NumberQualifiers",
            [
                el("v8:Digits", str(digits)),
                el("v8:FractionDigits", "0"),
                el("v8:AllowedSign", "Any"),
            ],
        ),
    ]


def datetime_type():
    return [
        el("v8:Type", "xs:dateTime"),
        el("v8:DateQualifiers", [el("v8:DateFractions", "DateTime")]),
    ]


def metadata_object(tag, object_uuid, children):
    return document("MetaDataObject", MD_NAMESPACES, [el(tag, children, uuid=object_uuid)])


def generated_types(owner, pairs):
    return el(
        "InternalInfo",
        [
            el(
                "xr:GeneratedType",
                [
                    el("xr:TypeId", uid("%s/type/%s" % (owner, prefix))),
                    el("xr:ValueId", uid("%s/value/%s" % (owner, prefix))),
                ],
                name="%s.%s" % (prefix, owner),
                category=category,
            )
            for prefix, category in pairs
        ],
    )


# ---- the 1C code -----------------------------------------------------------------


def read_bsl(path):
    return path.read_bytes().decode("utf-8-sig")


def prefixed(code):
    """The samples' code with our objects' names as the extension names them:
    `Вебхуки.` -> `Webhook1C_Вебхуки.` for the common modules (a name followed
    by a dot, not preceded by a letter or a dot), the register after
    `РегистрыСведений.` / `РегистрСведений.`, and the template's name."""
    names = "|".join(sorted(MODULES, key=len, reverse=True))
    code = re.sub(r"(?<![\w.])(%s)(?=\.)" % names, PREFIX + r"\1", code)
    code = re.sub(
        r"(РегистрыСведений\.|РегистрСведений\.)ИсходящиеВебхуки\b",
        r"\1" + REGISTER,
        code,
    )
    return code.replace(*TEMPLATE_REF)


def module_flags(code, name):
    """The flags named in the module's header line "Свойства модуля: ..."."""
    match = re.search(r"^// Свойства модуля: ([^.—\r\n]+)", code, re.M)
    if not match:
        sys.exit("extension.py: %s.bsl names no «Свойства модуля:» in its header" % name)
    flags = set()
    for word in match.group(1).split(", "):
        word = word.strip()
        if word not in MODULE_FLAGS:
            sys.exit("extension.py: %s.bsl: unknown module property «%s»" % (name, word))
        flags.add(MODULE_FLAGS[word])
    return flags


# ---- the dump ----------------------------------------------------------------------


class Dump:
    def __init__(self, out):
        self.out = out
        self.files = {}  # relative path -> bytes
        self.info = []  # (name, id, relative path or None, nested [(name, id)])

    def add(self, path, data, name=None, ident=None, nested=()):
        self.files[path] = data
        if name:
            self.info.append((name, ident, path, list(nested)))

    def write(self):
        for path, data in self.files.items():
            target = self.out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    def config_dump_info(self):
        entries = []
        for name, ident, path, nested in sorted(self.info, key=lambda e: e[0]):
            version = hashlib.sha1(self.files[path]).hexdigest()
            inner = [el("Metadata", None, name=n, id=i) for n, i in sorted(nested, key=lambda e: e[1])]
            entries.append(el("Metadata", inner or None, name=name, id=ident, configVersion=version))
        return document("ConfigDumpInfo", DUMPINFO_NAMESPACES, [el("ConfigVersions", entries)])


def configuration(version, children):
    contained = [
        el(
            "xr:ContainedObject",
            [el("xr:ClassId", class_id), el("xr:ObjectId", uid("contained/%d" % n))],
        )
        for n, class_id in enumerate(CONTAINED_CLASS_IDS)
    ]
    props = [
        el("ObjectBelonging", "Adopted"),
        el("Name", NAME),
        localized("Synonym", "Webhook1C: отправка webhooks"),
        el("Comment"),
        el("ConfigurationExtensionPurpose", "AddOn"),
        el("KeepMappingToExtendedConfigurationObjectsByIDs", "false"),
        el("NamePrefix", PREFIX),
        el("ConfigurationExtensionCompatibilityMode", COMPATIBILITY),
        el("DefaultRunMode", "ManagedApplication"),
        el(
            "UsePurposes",
            [el("v8:Value", "PlatformApplication", xsi__type="app:ApplicationUsePurpose")],
        ),
        el("ScriptVariant", "Russian"),
        el("DefaultRoles"),
        el("Vendor", "Webhook1C"),
        el("Version", version),
        el("DefaultLanguage", "Language.Русский"),
        el("BriefInformation"),
        el("DetailedInformation"),
        el("Copyright"),
        el("VendorInformationAddress"),
        el("ConfigurationInformationAddress"),
        el("InterfaceCompatibilityMode", "Taxi"),
    ]
    child_objects = [el(kind, name) for kind, name in children]
    return metadata_object(
        "Configuration",
        uid("Configuration"),
        [el("InternalInfo", contained), el("Properties", props), el("ChildObjects", child_objects)],
    )


def language():
    return metadata_object(
        "Language",
        uid("Language.Русский"),
        [
            el("InternalInfo"),
            el(
                "Properties",
                [
                    el("ObjectBelonging", "Adopted"),
                    el("Name", "Русский"),
                    el("Comment"),
                    # Mapped by name (KeepMappingToExtendedConfigurationObjectsByIDs
                    # false): the configuration's own uuid of the language is not
                    # known here and need not be.
                    el("ExtendedConfigurationObject", uid("Language.Русский/extended")),
                    el("LanguageCode", "ru"),
                ],
            ),
        ],
    )


def common_template():
    return metadata_object(
        "CommonTemplate",
        uid("CommonTemplate." + TEMPLATE),
        [
            el(
                "Properties",
                [
                    el("Name", TEMPLATE),
                    localized("Synonym", "Внешняя компонента Webhook1C"),
                    el("Comment"),
                    el("TemplateType", "AddIn"),
                ],
            )
        ],
    )


def common_module(name, flags):
    props = [el("Name", name), localized("Synonym", name[len(PREFIX):]), el("Comment")]
    props += [el(flag, "true" if flag in flags else "false") for flag in MODULE_FLAG_ORDER]
    props.append(el("ReturnValuesReuse", "DontUse"))
    return metadata_object("CommonModule", uid("CommonModule." + name), [el("Properties", props)])


def field(kind, name, synonym, type_children, fill_value, main_filter=False):
    props = [
        el("Name", name),
        localized("Synonym", synonym),
        el("Comment"),
        el("Type", type_children),
        el("PasswordMode", "false"),
        el("Format"),
        el("EditFormat"),
        el("ToolTip"),
        el("MarkNegatives", "false"),
        el("Mask"),
        el("MultiLine", "false"),
        el("ExtendedEdit", "false"),
        el("MinValue", None, xsi__nil="true"),
        el("MaxValue", None, xsi__nil="true"),
        el("FillFromFillingValue", "false"),
        fill_value,
        el("FillChecking", "DontCheck"),
        el("ChoiceFoldersAndItems", "Items"),
        el("ChoiceParameterLinks"),
        el("ChoiceParameters"),
        el("QuickChoice", "Auto"),
        el("CreateOnInput", "Auto"),
        el("ChoiceForm"),
        el("LinkByType"),
        el("ChoiceHistoryOnInput", "Auto"),
    ]
    if kind == "Dimension":
        props += [
            el("Master", "false"),
            el("MainFilter", "true" if main_filter else "false"),
            el("DenyIncompleteValues", "true"),
        ]
    props += [el("Indexing", "DontIndex"), el("FullTextSearch", "Use"), el("DataHistory", "Use")]
    return el(kind, [el("Properties", props)], uuid=uid("%s.%s.%s" % (REGISTER, kind, name)))


REGISTER_FIELDS = [
    # (kind, name, synonym, type, fill value)
    ("Resource", "Адрес", "Адрес", string_type(0), "string"),
    ("Resource", "Тело", "Тело (JSON)", string_type(0), "string"),
    ("Attribute", "Создано", "Создано", datetime_type(), "nil"),
    ("Dimension", "Идентификатор", "Идентификатор", string_type(255), "string"),
]


def information_register():
    fields = []
    for kind, name, synonym, type_children, fill in REGISTER_FIELDS:
        fill_value = (
            el("FillValue", None, xsi__type="xs:string")
            if fill == "string"
            else el("FillValue", None, xsi__nil="true")
        )
        fields.append(field(kind, name, synonym, type_children, fill_value, main_filter=True))
    props = [
        el("Name", REGISTER),
        localized("Synonym", "Исходящие webhooks"),
        el("Comment"),
        el("UseStandardCommands", "true"),
        el("EditType", "InDialog"),
        el("DefaultRecordForm"),
        el("DefaultListForm"),
        el("AuxiliaryRecordForm"),
        el("AuxiliaryListForm"),
        el("InformationRegisterPeriodicity", "Nonperiodical"),
        el("WriteMode", "Independent"),
        el("MainFilterOnPeriod", "false"),
        el("IncludeHelpInContents", "false"),
        el("DataLockControlMode", "Managed"),
        el("FullTextSearch", "DontUse"),
        el("EnableTotalsSliceFirst", "false"),
        el("EnableTotalsSliceLast", "false"),
        el("RecordPresentation"),
        el("ExtendedRecordPresentation"),
        el("ListPresentation"),
        el("ExtendedListPresentation"),
        el("Explanation"),
        el("DataHistory", "DontUse"),
        el("UpdateDataHistoryImmediatelyAfterWrite", "false"),
        el("ExecuteAfterWriteDataHistoryVersionProcessing", "false"),
    ]
    categories = "Record Manager Selection List RecordSet RecordKey RecordManager".split()
    types = [("InformationRegister" + category, category) for category in categories]
    nested = [
        ("InformationRegister.%s.%s.%s" % (REGISTER, kind, name), uid("%s.%s.%s" % (REGISTER, kind, name)))
        for kind, name, *_ in REGISTER_FIELDS
    ]
    data = metadata_object(
        "InformationRegister",
        uid("InformationRegister." + REGISTER),
        [generated_types(REGISTER, types), el("Properties", props), el("ChildObjects", fields)],
    )
    return data, nested


def scheduled_job(method):
    return metadata_object(
        "ScheduledJob",
        uid("ScheduledJob." + JOB),
        [
            el(
                "Properties",
                [
                    el("Name", JOB),
                    localized("Synonym", "Отправка исходящих webhooks"),
                    el("Comment"),
                    el("MethodName", method),
                    el("Description", "Передача исходящих webhooks в очередь доставки Webhook1C"),
                    el("Key"),
                    el("Use", "true"),
                    el("Predefined", "true"),
                    el("RestartCountOnFailure", "3"),
                    el("RestartIntervalOnFailure", "60"),
                ],
            )
        ],
    )


def job_schedule():
    """Every minute, every day."""
    schedule = el(
        "Schedule",
        [
            el("ent:WeekDays", "1 2 3 4 5 6 7"),
            el("ent:Months", "1 2 3 4 5 6 7 8 9 10 11 12"),
        ],
        BeginDate="0001-01-01",
        EndDate="0001-01-01",
        BeginTime="00:00:00",
        EndTime="00:00:00",
        CompletionTime="00:00:00",
        CompletionInterval="0",
        RepeatPeriodInDay="60",
        RepeatPause="0",
        WeekDayInMonth="0",
        DayInMonth="0",
        WeeksPeriod="1",
        DaysRepeatPeriod="1",
    )
    return document("JobSchedule", SCHEDULE_NAMESPACES, [schedule])


def role(name, synonym):
    return metadata_object(
        "Role",
        uid("Role." + name),
        [el("Properties", [el("Name", name), localized("Synonym", synonym), el("Comment")])],
    )


def rights(objects):
    children = [
        el("setForNewObjects", "false"),
        el("setForAttributesByDefault", "true"),
        el("independentRightsOfChildObjects", "false"),
    ]
    for object_name, granted in objects:
        entries = [el("right", [el("name", r), el("value", "true")]) for r in granted]
        children.append(el("object", [el("name", object_name)] + entries))
    return document("Rights", RIGHTS_NAMESPACES, children)


def data_processor():
    return metadata_object(
        "DataProcessor",
        uid("DataProcessor." + PROCESSOR),
        [
            generated_types(
                PROCESSOR,
                [("DataProcessorObject", "Object"), ("DataProcessorManager", "Manager")],
            ),
            el(
                "Properties",
                [
                    el("Name", PROCESSOR),
                    localized("Synonym", "Webhook1C: очередь доставки"),
                    el("Comment"),
                    el("UseStandardCommands", "true"),
                    el("DefaultForm", "DataProcessor.%s.Form.%s" % (PROCESSOR, FORM)),
                    el("AuxiliaryForm"),
                    el("IncludeHelpInContents", "false"),
                    el("ExtendedPresentation"),
                    el("Explanation"),
                ],
            ),
            el("ChildObjects", [el("Form", FORM)]),
        ],
    )


def form_metadata():
    return metadata_object(
        "Form",
        uid("DataProcessor.%s.Form.%s" % (PROCESSOR, FORM)),
        [
            el(
                "Properties",
                [
                    el("Name", FORM),
                    localized("Synonym", FORM),
                    el("Comment"),
                    el("FormType", "Managed"),
                    el("IncludeHelpInContents", "false"),
                    el(
                        "UsePurposes",
                        [el("v8:Value", "PlatformApplication", xsi__type="app:ApplicationUsePurpose")],
                    ),
                    el("ExtendedPresentation"),
                ],
            )
        ],
    )


class Items:
    """Form items share one id sequence with their companion elements."""

    def __init__(self):
        self.next = 0

    def id(self):
        self.next += 1
        return str(self.next)

    def tooltip(self, name):
        return el("ExtendedTooltip", None, name=name + "РасширеннаяПодсказка", id=self.id())

    def context_menu(self, name):
        return el("ContextMenu", None, name=name + "КонтекстноеМеню", id=self.id())

    def button(self, name, command):
        own = self.id()
        return el(
            "Button",
            [
                el("Type", "CommandBarButton"),
                el("CommandName", "Form.Command." + command),
                self.tooltip(name),
            ],
            name=name,
            id=own,
        )

    def field(self, name, path, read_only):
        own = self.id()
        children = [el("DataPath", path)]
        if read_only:
            children.append(el("ReadOnly", "true"))
        children.append(el("EditMode", "EnterOnInput"))
        children += [self.context_menu(name), self.tooltip(name)]
        return el("InputField", children, name=name, id=own)

    def group(self, name, title, direction, children):
        own = self.id()
        head = [localized("Title", title), el("Group", direction), self.tooltip(name)]
        return el("UsualGroup", head + [el("ChildItems", children)], name=name, id=own)

    def addition(self, kind, name, table, source_type):
        own = self.id()
        return el(
            kind,
            [
                el("AdditionSource", [el("Item", table), el("Type", source_type)]),
                self.context_menu(name),
                self.tooltip(name),
            ],
            name=name,
            id=own,
        )

    def table(self, name, columns):
        own = self.id()
        head = [
            el("Representation", "List"),
            el("ChangeRowSet", "false"),
            el("ChangeRowOrder", "false"),
            el("DataPath", name),
            self.context_menu(name),
            el("AutoCommandBar", None, name=name + "КоманднаяПанель", id=self.id()),
            self.tooltip(name),
            self.addition("SearchStringAddition", name + "СтрокаПоиска", name, "SearchStringRepresentation"),
            self.addition("ViewStatusAddition", name + "СостояниеПросмотра", name, "ViewStatusRepresentation"),
            self.addition("SearchControlAddition", name + "УправлениеПоиском", name, "SearchControl"),
        ]
        cells = [self.field(name + column, "%s.%s" % (name, column), True) for column, _, _ in columns]
        return el("Table", head + [el("ChildItems", cells)], name=name, id=own)


FAILED_COLUMNS = [
    ("Идентификатор", "Идентификатор", string_type(0)),
    ("Попыток", "Попыток", number_type(10)),
    ("КодСостояния", "Код состояния", number_type(3)),
    ("Ошибка", "Последняя ошибка", string_type(0)),
]

FORM_ATTRIBUTES = [
    ("Ожидают", "Ожидают отправки", number_type(10)),
    ("Доставлены", "Доставлены", number_type(10)),
    ("НеДоставлены", "Не доставлены", number_type(10)),
    ("НеДоставленные", "Недоставленные сообщения", None),
    ("АдресТестовогоВебхука", "Адрес тестового webhook", string_type(0)),
    ("РезультатТеста", "Результат", string_type(0)),
]

FORM_COMMANDS = [
    # (name, title, tooltip, picture)
    ("Обновить", "Обновить", "Перечитать состояние очереди", "StdPicture.Refresh"),
    (
        "ПовторитьОтправку",
        "Отправить снова",
        "Вернуть выбранное недоставленное сообщение в очередь",
        None,
    ),
    (
        "ОтправитьТестовый",
        "Отправить тестовый webhook",
        "Отправить на указанный адрес тестовый webhook и показать ответ",
        None,
    ),
]


def form_content():
    items = Items()
    command_bar = el(
        "AutoCommandBar",
        [
            el(
                "ChildItems",
                [items.button("Форма" + name, name) for name, *_ in FORM_COMMANDS],
            )
        ],
        name="ФормаКоманднаяПанель",
        id="-1",
    )
    counts = items.group(
        "ГруппаСостояние",
        "Состояние очереди",
        "Horizontal",
        [items.field(name, name, True) for name in ("Ожидают", "Доставлены", "НеДоставлены")],
    )
    table = items.table("НеДоставленные", FAILED_COLUMNS)
    test = items.group(
        "ГруппаТестовыйWebhook",
        "Тестовый webhook",
        "Vertical",
        [
            items.field("АдресТестовогоВебхука", "АдресТестовогоВебхука", False),
            items.field("РезультатТеста", "РезультатТеста", True),
        ],
    )
    attributes = [
        el(
            "Attribute",
            [el("Type", [el("v8:Type", "cfg:DataProcessorObject." + PROCESSOR)]), el("MainAttribute", "true")],
            name="Объект",
            id="1",
        )
    ]
    for n, (name, title, type_children) in enumerate(FORM_ATTRIBUTES, start=2):
        if type_children is None:
            columns = [
                el("Column", [localized("Title", ctitle), el("Type", ctype)], name=cname, id=str(c))
                for c, (cname, ctitle, ctype) in enumerate(FAILED_COLUMNS, start=1)
            ]
            body = [localized("Title", title), el("Type", [el("v8:Type", "v8:ValueTable")]), el("Columns", columns)]
        else:
            body = [localized("Title", title), el("Type", type_children)]
        attributes.append(el("Attribute", body, name=name, id=str(n)))
    commands = []
    for n, (name, title, tooltip, picture) in enumerate(FORM_COMMANDS, start=1):
        body = [localized("Title", title), localized("ToolTip", tooltip)]
        if picture:
            body.append(el("Picture", [el("xr:Ref", picture), el("xr:LoadTransparent", "true")]))
        body += [el("Action", name), el("CurrentRowUse", "DontUse")]
        commands.append(el("Command", body, name=name, id=str(n)))
    children = [
        localized("Title", "Webhook1C: очередь доставки"),
        el("AutoTitle", "false"),
        command_bar,
        el("Events", [el("Event", "ПриСозданииНаСервере", name="OnCreateAtServer")]),
        el("ChildItems", [counts, table, test]),
        el("Attributes", attributes),
        el("Commands", commands),
    ]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<Form %s version="%s">' % (FORM_NAMESPACES, FORMAT)]
    for child in children:
        render(child, 1, lines)
    lines.append("</Form>")
    return b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8")


def bsl_bytes(code):
    return b"\xef\xbb\xbf" + code.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def formatted(modules, bslfmt):
    """The modules (path -> bytes) as bslfmt formats them: a prefixed name can
    make a line long enough for bslfmt to wrap it, and the dump's modules pass
    bslfmt --check like the samples do."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for n, data in enumerate(modules.values()):
            path = Path(tmp) / ("%d.bsl" % n)
            path.write_bytes(data)
            paths.append(str(path))
        run = subprocess.run([bslfmt, "-i", "--"] + paths, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit("extension.py: bslfmt failed: %s%s" % (run.stdout, run.stderr))
        return {key: Path(path).read_bytes() for key, path in zip(modules, paths)}


def build(version, package_zip, out, bslfmt):
    dump = Dump(out)
    children = [("Language", "Русский")]

    dump.add("Languages/Русский.xml", language(), "Language.Русский", uid("Language.Русский"))

    roles = [
        (
            ROLE_WRITE,
            "Webhook1C: запись исходящих webhooks",
            [("InformationRegister." + REGISTER, ["Read", "Update"])],
        ),
        (
            ROLE_ADMIN,
            "Webhook1C: администрирование очереди",
            [
                ("InformationRegister." + REGISTER, ["Read", "Update", "View", "Edit"]),
                ("DataProcessor." + PROCESSOR, ["Use", "View"]),
            ],
        ),
    ]
    for name, synonym, granted in roles:
        ident = uid("Role." + name)
        dump.add("Roles/%s.xml" % name, role(name, synonym), "Role." + name, ident)
        dump.add("Roles/%s/Ext/Rights.xml" % name, rights(granted), "Role.%s.Rights" % name, ident + ".0")
        children.append(("Role", name))

    ident = uid("CommonTemplate." + TEMPLATE)
    dump.add("CommonTemplates/%s.xml" % TEMPLATE, common_template(), "CommonTemplate." + TEMPLATE, ident)
    dump.add(
        "CommonTemplates/%s/Ext/Template.bin" % TEMPLATE,
        Path(package_zip).read_bytes(),
        "CommonTemplate.%s.Template" % TEMPLATE,
        ident + ".0",
    )
    children.append(("CommonTemplate", TEMPLATE))

    for sample in sorted(MODULES):
        name = PREFIX + sample
        code = read_bsl(SAMPLES / "ОбщиеМодули" / (sample + ".bsl"))
        ident = uid("CommonModule." + name)
        dump.add("CommonModules/%s.xml" % name, common_module(name, module_flags(code, sample)), "CommonModule." + name, ident)
        dump.add(
            "CommonModules/%s/Ext/Module.bsl" % name,
            bsl_bytes(prefixed(code)),
            "CommonModule.%s.Module" % name,
            ident + ".0",
        )
        children.append(("CommonModule", name))

    ident = uid("ScheduledJob." + JOB)
    method = "CommonModule.%sВебхукиИсходящие.ОтправкаИсходящихВебхуков" % PREFIX
    dump.add("ScheduledJobs/%s.xml" % JOB, scheduled_job(method), "ScheduledJob." + JOB, ident)
    dump.add("ScheduledJobs/%s/Ext/Schedule.xml" % JOB, job_schedule(), "ScheduledJob.%s.Schedule" % JOB, ident + ".0")
    children.append(("ScheduledJob", JOB))

    ident = uid("DataProcessor." + PROCESSOR)
    form_ident = uid("DataProcessor.%s.Form.%s" % (PROCESSOR, FORM))
    base = "DataProcessors/%s" % PROCESSOR
    dump.add(base + ".xml", data_processor(), "DataProcessor." + PROCESSOR, ident)
    form_name = "DataProcessor.%s.Form.%s" % (PROCESSOR, FORM)
    dump.add("%s/Forms/%s.xml" % (base, FORM), form_metadata(), form_name, form_ident)
    dump.add("%s/Forms/%s/Ext/Form.xml" % (base, FORM), form_content(), form_name + ".Form", form_ident + ".0")
    dump.add("%s/Forms/%s/Ext/Form/Module.bsl" % (base, FORM), bsl_bytes(prefixed(read_bsl(FORM_MODULE))))
    children.append(("DataProcessor", PROCESSOR))

    register, nested = information_register()
    dump.add(
        "InformationRegisters/%s.xml" % REGISTER,
        register,
        "InformationRegister." + REGISTER,
        uid("InformationRegister." + REGISTER),
        nested,
    )
    children.append(("InformationRegister", REGISTER))

    modules = {path: data for path, data in dump.files.items() if path.endswith(".bsl")}
    dump.files.update(formatted(modules, bslfmt))
    dump.add("Configuration.xml", configuration(version, children), "Configuration." + NAME, uid("Configuration"))
    dump.files["ConfigDumpInfo.xml"] = dump.config_dump_info()
    return dump


def main(argv):
    if len(argv) != 5:
        sys.exit(__doc__.split("\n\n")[1])
    version, package_zip, out, bslfmt = argv[1], argv[2], Path(argv[3]), argv[4]
    # 1C versions have four numbers; the crate's three get a fourth.
    if re.fullmatch(r"\d+\.\d+\.\d+", version):
        version += ".0"
    if not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", version):
        sys.exit("extension.py: a version is three or four numbers, not %r" % version)
    if out.exists():
        for path in sorted(out.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    dump = build(version, package_zip, out, bslfmt)
    dump.write()
    archive = out.with_name(out.name + ".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(dump.files):
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, dump.files[path])
    print("extension.py: %d files in %s, and %s" % (len(dump.files), out, archive))


if __name__ == "__main__":
    main(sys.argv)
