#!/usr/bin/env python3
"""Structural check of the Webhook1C extension dump that package.sh writes.

    tests/extension/check.py DUMP_DIR PACKAGE_ZIP BSLFMT [--self-test]

No 1C platform runs here, so the dump is checked against the rules read off
real Designer dumps (tests/extension/SOURCES.md names them):

 1. files: every .xml parses; every .xml and .bsl starts with the UTF-8 BOM,
    uses CRLF only, indents with tabs, ends without a final newline;
 2. roots: each kind of file has its root element, exactly the namespace
    declarations real 2.17 dumps write, and version="2.17";
 3. Configuration.xml: an AddOn extension with its prefix, the seven
    ContainedObjects, properties in the 2.17 order; ChildObjects grouped in
    the canonical type order; every object listed has its file and every
    object file is listed; own objects carry the prefix;
 4. uuids: every uuid, TypeId, ValueId and ObjectId well-formed and unique;
 5. ConfigDumpInfo.xml: one entry per object, form and content file, each id
    the uuid of its object (".N" for parts), sorted by name, nothing more;
    nested entries for the register's fields;
 6. properties of every object in the order real dumps use, per type;
 7. generated types where real dumps have them (register 7, data processor 2)
    and nowhere else;
 8. references resolve: DefaultForm, DefaultLanguage, the job's MethodName
    (an exported procedure of a server module), Rights object names, the
    form's main attribute type, data paths, command actions and event
    handlers (procedures of the form module);
 9. Template.bin is PACKAGE_ZIP byte for byte;
10. every module is its 1c-samples source with our names prefixed, formatted
    by bslfmt, and passes bslfmt --check; module flags are the ones the
    source's header names.

--self-test then breaks a copy of the dump in one way at a time and checks
that each break is caught.
"""

import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "manifest"))
import extension  # noqa: E402  (the generator: its names and its rename rule)

MD = "{http://v8.1c.ru/8.3/MDClasses}"
XR = "{http://v8.1c.ru/8.3/xcf/readable}"
LF = "{http://v8.1c.ru/8.3/xcf/logform}"
V8 = "{http://v8.1c.ru/8.1/data/core}"
DI = "{http://v8.1c.ru/8.3/xcf/dumpinfo}"
RI = "{http://v8.1c.ru/8.2/roles}"

# Namespace declarations of each kind of root, as real 2.17 dumps write them.
ROOT_NAMESPACES = {
    "MetaDataObject": extension.MD_NAMESPACES,
    "Form": extension.FORM_NAMESPACES,
    "Rights": extension.RIGHTS_NAMESPACES,
    "ConfigDumpInfo": extension.DUMPINFO_NAMESPACES,
    "JobSchedule": extension.SCHEDULE_NAMESPACES,
}
# The same lists written out as the real dumps show them, so that a change in
# the generator's constants cannot pass unnoticed.
EXPECTED_MD_PREFIXES = [
    "", "app", "cfg", "cmi", "ent", "lf", "style", "sys", "v8", "v8ui", "web", "win",
    "xen", "xpr", "xr", "xs", "xsi",
]
EXPECTED_FORM_PREFIXES = [
    "", "app", "cfg", "dcscor", "dcssch", "dcsset", "ent", "lf", "style", "sys", "v8",
    "v8ui", "web", "win", "xr", "xs", "xsi",
]

# Canonical order of object types in Configuration.xml's ChildObjects.
TYPE_ORDER = (
    "Language Subsystem StyleItem Style CommonPicture SessionParameter Role CommonTemplate "
    "FilterCriterion CommonModule CommonAttribute ExchangePlan XDTOPackage WebService HTTPService "
    "WSReference EventSubscription ScheduledJob SettingsStorage FunctionalOption "
    "FunctionalOptionsParameter DefinedType Bot CommonCommand CommandGroup Constant CommonForm "
    "Catalog Document DocumentNumerator Sequence DocumentJournal Enum Report DataProcessor "
    "InformationRegister AccumulationRegister ChartOfCharacteristicTypes ChartOfAccounts "
    "AccountingRegister ChartOfCalculationTypes CalculationRegister BusinessProcess Task "
    "ExternalDataSource IntegrationService"
).split()
FOLDERS = {
    "Language": "Languages",
    "Role": "Roles",
    "CommonTemplate": "CommonTemplates",
    "CommonModule": "CommonModules",
    "ScheduledJob": "ScheduledJobs",
    "DataProcessor": "DataProcessors",
    "InformationRegister": "InformationRegisters",
}

# Property order per object type in format 2.17 (SOURCES.md §10.3).
FIELD = (
    "Name Synonym Comment Type PasswordMode Format EditFormat ToolTip MarkNegatives Mask "
    "MultiLine ExtendedEdit MinValue MaxValue FillFromFillingValue FillValue FillChecking "
    "ChoiceFoldersAndItems ChoiceParameterLinks ChoiceParameters QuickChoice CreateOnInput "
    "ChoiceForm LinkByType ChoiceHistoryOnInput"
).split()
PROPERTY_ORDER = {
    "Configuration": (
        "ObjectBelonging Name Synonym Comment ConfigurationExtensionPurpose "
        "KeepMappingToExtendedConfigurationObjectsByIDs NamePrefix "
        "ConfigurationExtensionCompatibilityMode DefaultRunMode UsePurposes ScriptVariant "
        "DefaultRoles Vendor Version DefaultLanguage BriefInformation DetailedInformation "
        "Copyright VendorInformationAddress ConfigurationInformationAddress "
        "InterfaceCompatibilityMode"
    ).split(),
    "Language": "ObjectBelonging Name Comment ExtendedConfigurationObject LanguageCode".split(),
    "CommonTemplate": "Name Synonym Comment TemplateType".split(),
    "CommonModule": (
        "Name Synonym Comment Global ClientManagedApplication Server ExternalConnection "
        "ClientOrdinaryApplication ServerCall Privileged ReturnValuesReuse"
    ).split(),
    "Role": "Name Synonym Comment".split(),
    "ScheduledJob": (
        "Name Synonym Comment MethodName Description Key Use Predefined RestartCountOnFailure "
        "RestartIntervalOnFailure"
    ).split(),
    "InformationRegister": (
        "Name Synonym Comment UseStandardCommands EditType DefaultRecordForm DefaultListForm "
        "AuxiliaryRecordForm AuxiliaryListForm InformationRegisterPeriodicity WriteMode "
        "MainFilterOnPeriod IncludeHelpInContents DataLockControlMode FullTextSearch "
        "EnableTotalsSliceFirst EnableTotalsSliceLast RecordPresentation "
        "ExtendedRecordPresentation ListPresentation ExtendedListPresentation Explanation "
        "DataHistory UpdateDataHistoryImmediatelyAfterWrite "
        "ExecuteAfterWriteDataHistoryVersionProcessing"
    ).split(),
    "Resource": FIELD + "Indexing FullTextSearch DataHistory".split(),
    "Attribute": FIELD + "Indexing FullTextSearch DataHistory".split(),
    "Dimension": FIELD + "Master MainFilter DenyIncompleteValues Indexing FullTextSearch DataHistory".split(),
    "DataProcessor": (
        "Name Synonym Comment UseStandardCommands DefaultForm AuxiliaryForm IncludeHelpInContents "
        "ExtendedPresentation Explanation"
    ).split(),
    "Form": "Name Synonym Comment FormType IncludeHelpInContents UsePurposes ExtendedPresentation".split(),
}
# Generated types per object type (prefix, category), as real dumps have them.
GENERATED = {
    "InformationRegister": [
        ("InformationRegisterRecord", "Record"),
        ("InformationRegisterManager", "Manager"),
        ("InformationRegisterSelection", "Selection"),
        ("InformationRegisterList", "List"),
        ("InformationRegisterRecordSet", "RecordSet"),
        ("InformationRegisterRecordKey", "RecordKey"),
        ("InformationRegisterRecordManager", "RecordManager"),
    ],
    "DataProcessor": [("DataProcessorObject", "Object"), ("DataProcessorManager", "Manager")],
}
# ConfigDumpInfo part suffixes: content file -> (name suffix, id suffix).
PARTS = {
    "Ext/Rights.xml": (".Rights", ".0"),
    "Ext/Template.bin": (".Template", ".0"),
    "Ext/Module.bsl": (".Module", ".0"),
    "Ext/Schedule.xml": (".Schedule", ".0"),
    "Ext/Form.xml": (".Form", ".0"),
}
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Check:
    def __init__(self, dump, package_zip, bslfmt):
        self.dump = Path(dump)
        self.zip = Path(package_zip)
        self.bslfmt = bslfmt
        self.errors = []

    def fail(self, message):
        self.errors.append(message)

    def rel(self, path):
        return path.relative_to(self.dump).as_posix()

    def parse(self, rel):
        try:
            return ET.parse(self.dump / rel).getroot()
        except (ET.ParseError, FileNotFoundError) as e:
            self.fail("%s: %s" % (rel, e))
            return None

    # 1, 2 -----------------------------------------------------------------------
    def files(self):
        for path in sorted(self.dump.rglob("*")):
            if not path.is_file() or path.suffix not in (".xml", ".bsl"):
                continue
            rel = self.rel(path)
            data = path.read_bytes()
            if not data.startswith(b"\xef\xbb\xbf"):
                self.fail("%s: no UTF-8 BOM" % rel)
            body = data[3:]
            if re.search(rb"(?<!\r)\n", body) or re.search(rb"\r(?!\n)", body):
                self.fail("%s: a line end that is not CRLF" % rel)
            if path.suffix == ".xml":
                if body.endswith(b"\n"):
                    self.fail("%s: a newline after the root's closing tag" % rel)
                for n, line in enumerate(body.split(b"\r\n"), 1):
                    if re.match(rb"^\t* +", line):
                        self.fail("%s:%d: indented with spaces" % (rel, n))
                        break
                self.root(rel, body.decode("utf-8", "replace"))

    def root(self, rel, text):
        lines = text.split("\r\n")
        if lines[0] != '<?xml version="1.0" encoding="UTF-8"?>':
            self.fail("%s: the XML declaration is not the Designer's" % rel)
        match = re.match(r"<(\w+) (.*) version=\"([^\"]+)\">$", lines[1] if len(lines) > 1 else "")
        if not match:
            self.fail("%s: the root's start tag is not one line with version last" % rel)
            return
        tag, declared, version = match.groups()
        if version != extension.FORMAT:
            self.fail("%s: version %s, not %s" % (rel, version, extension.FORMAT))
        if tag not in ROOT_NAMESPACES:
            self.fail("%s: unexpected root %s" % (rel, tag))
        elif declared != ROOT_NAMESPACES[tag]:
            self.fail("%s: the namespaces of <%s> differ from the real dumps'" % (rel, tag))
        expected = {"MetaDataObject": EXPECTED_MD_PREFIXES, "Form": EXPECTED_FORM_PREFIXES}.get(tag)
        if expected:
            prefixes = [p or "" for p in re.findall(r"xmlns(?::(\w+))?=", declared)]
            if prefixes != expected:
                self.fail("%s: namespace prefixes %s" % (rel, prefixes))
        if rel.endswith("Ext/Form.xml") != (tag == "Form"):
            self.fail("%s: root <%s> in the wrong file" % (rel, tag))

    # 3 --------------------------------------------------------------------------
    def configuration(self):
        root = self.parse("Configuration.xml")
        if root is None:
            return []
        config = root.find(MD + "Configuration")
        if config is None or [c.tag for c in config] != [MD + "InternalInfo", MD + "Properties", MD + "ChildObjects"]:
            self.fail("Configuration.xml: Configuration is not InternalInfo, Properties, ChildObjects")
            return []
        class_ids = [c.findtext(XR + "ClassId") for c in config.find(MD + "InternalInfo")]
        if len(class_ids) != 7 or class_ids != extension.CONTAINED_CLASS_IDS:
            self.fail("Configuration.xml: the ContainedObjects' ClassIds are not the seven fixed ones")
        props = config.find(MD + "Properties")
        self.order("Configuration.xml", "Configuration", props)
        expect = {
            "ObjectBelonging": "Adopted",
            "Name": extension.NAME,
            "ConfigurationExtensionPurpose": "AddOn",
            "NamePrefix": extension.PREFIX,
            "KeepMappingToExtendedConfigurationObjectsByIDs": "false",
            "ConfigurationExtensionCompatibilityMode": "Version8_3_18",
            "DefaultLanguage": "Language.Русский",
        }
        for key, value in expect.items():
            if props.findtext(MD + key) != value:
                self.fail("Configuration.xml: %s is %r, not %r" % (key, props.findtext(MD + key), value))
        listed = [(c.tag[len(MD):], c.text) for c in config.find(MD + "ChildObjects")]
        ranks = [TYPE_ORDER.index(kind) if kind in TYPE_ORDER else -1 for kind, _ in listed]
        if -1 in ranks or ranks != sorted(ranks):
            self.fail("Configuration.xml: ChildObjects are not grouped in the canonical type order")
        for kind, name in listed:
            if kind not in FOLDERS:
                self.fail("Configuration.xml: no folder known for %s" % kind)
                continue
            if not (self.dump / FOLDERS[kind] / (name + ".xml")).is_file():
                self.fail("Configuration.xml lists %s.%s, which has no file" % (kind, name))
            if kind != "Language" and not name.startswith(extension.PREFIX):
                self.fail("%s.%s: an own object without the prefix %s" % (kind, name, extension.PREFIX))
        listed_files = {"%s/%s.xml" % (FOLDERS.get(k, "?"), n) for k, n in listed}
        for folder in FOLDERS.values():
            for path in sorted((self.dump / folder).glob("*.xml")):
                if self.rel(path) not in listed_files:
                    self.fail("%s is not listed in Configuration.xml" % self.rel(path))
        return listed

    def order(self, rel, kind, props):
        names = [c.tag.split("}")[1] for c in props]
        if names != PROPERTY_ORDER[kind]:
            self.fail("%s: %s properties %s, expected %s" % (rel, kind, names, PROPERTY_ORDER[kind]))

    # 4 --------------------------------------------------------------------------
    def uuids(self):
        seen = {}
        for path in sorted(self.dump.rglob("*.xml")):
            rel = self.rel(path)
            text = path.read_text("utf-8-sig")
            if rel == "ConfigDumpInfo.xml":
                continue
            values = re.findall(r'\buuid="([^"]*)"', text)
            values += re.findall(r"<xr:(?:TypeId|ValueId|ObjectId)>([^<]*)<", text)
            values += re.findall(r"<ExtendedConfigurationObject>([^<]*)<", text)
            for value in values:
                if not UUID_RE.match(value):
                    self.fail("%s: malformed uuid %r" % (rel, value))
                elif value in seen:
                    self.fail("%s: uuid %s also in %s" % (rel, value, seen[value]))
                else:
                    seen[value] = rel

    # 5 --------------------------------------------------------------------------
    def dump_info(self, listed):
        root = self.parse("ConfigDumpInfo.xml")
        if root is None:
            return
        entries = root.find(DI + "ConfigVersions")
        names = [e.get("name") for e in entries]
        if names != sorted(names):
            self.fail("ConfigDumpInfo.xml: entries are not sorted by name")
        got = {e.get("name"): e for e in entries}
        expected = {}
        config = self.parse("Configuration.xml").find(MD + "Configuration")
        expected["Configuration." + extension.NAME] = (config.get("uuid"), None)
        for kind, name in listed:
            obj = self.object_of(kind, name)
            if obj is None:
                continue
            ident = obj.get("uuid")
            expected["%s.%s" % (kind, name)] = (ident, obj)
            base = self.dump / FOLDERS[kind] / name
            for part, (name_suffix, id_suffix) in PARTS.items():
                if (base / part).is_file():
                    expected["%s.%s%s" % (kind, name, name_suffix)] = (ident + id_suffix, None)
            for form in sorted((base / "Forms").glob("*.xml")) if (base / "Forms").is_dir() else []:
                form_root = self.parse(self.rel(form))
                form_id = form_root[0].get("uuid")
                form_name = "%s.%s.Form.%s" % (kind, name, form.stem)
                expected[form_name] = (form_id, None)
                if (base / "Forms" / form.stem / "Ext/Form.xml").is_file():
                    expected[form_name + ".Form"] = (form_id + ".0", None)
        for name, (ident, obj) in expected.items():
            entry = got.get(name)
            if entry is None:
                self.fail("ConfigDumpInfo.xml does not list %s" % name)
                continue
            if entry.get("id") != ident:
                self.fail("ConfigDumpInfo.xml: %s has id %s, not %s" % (name, entry.get("id"), ident))
            if not re.fullmatch(r"[0-9a-f]{40}", entry.get("configVersion") or ""):
                self.fail("ConfigDumpInfo.xml: %s has no 40-hex configVersion" % name)
            fields = []
            if obj is not None and obj.find(MD + "ChildObjects") is not None:
                for child in obj.find(MD + "ChildObjects"):
                    kind = child.tag[len(MD):]
                    if kind in ("Resource", "Attribute", "Dimension"):
                        field_name = child.find(MD + "Properties").findtext(MD + "Name")
                        fields.append(("%s.%s.%s" % (name, kind, field_name), child.get("uuid")))
            nested = [(n.get("name"), n.get("id")) for n in entry]
            if nested != sorted(fields, key=lambda f: f[1]):
                self.fail("ConfigDumpInfo.xml: %s's nested entries %s, expected %s" % (name, nested, fields))
        for name in got:
            if name not in expected:
                self.fail("ConfigDumpInfo.xml lists %s, which the dump does not have" % name)

    def object_of(self, kind, name):
        root = self.parse("%s/%s.xml" % (FOLDERS[kind], name))
        if root is None:
            return None
        if len(root) != 1 or root[0].tag != MD + kind:
            self.fail("%s/%s.xml: not one <%s>" % (FOLDERS[kind], name, kind))
            return None
        return root[0]

    # 6, 7 -----------------------------------------------------------------------
    def objects(self, listed):
        for kind, name in listed:
            obj = self.object_of(kind, name)
            if obj is None:
                continue
            rel = "%s/%s.xml" % (FOLDERS[kind], name)
            props = obj.find(MD + "Properties")
            self.order(rel, kind, props)
            if props.findtext(MD + "Name") != name:
                self.fail("%s: Name is %r" % (rel, props.findtext(MD + "Name")))
            info = obj.find(MD + "InternalInfo")
            generated = [] if info is None else info.findall(XR + "GeneratedType")
            want = [("%s.%s" % (p, name), c) for p, c in GENERATED.get(kind, [])]
            have = [(g.get("name"), g.get("category")) for g in generated]
            if have != want:
                self.fail("%s: generated types %s, expected %s" % (rel, have, want))
            adopted = props.findtext(MD + "ObjectBelonging") == "Adopted"
            if adopted != (kind == "Language"):
                self.fail("%s: only the language is borrowed" % rel)
            if adopted and (info is None or len(info)):
                self.fail("%s: a borrowed object has an empty InternalInfo" % rel)
            if not adopted and kind not in GENERATED and info is not None:
                self.fail("%s: an own %s has no InternalInfo" % (rel, kind))
            children = obj.find(MD + "ChildObjects")
            if kind in ("InformationRegister", "DataProcessor") and children is None:
                self.fail("%s: no ChildObjects" % rel)
            if children is not None:
                kinds = [c.tag[len(MD):] for c in children]
                rank = {"Resource": 0, "Attribute": 1, "Dimension": 2, "Form": 3, "Command": 4}
                if [rank.get(k, 9) for k in kinds] != sorted(rank.get(k, 9) for k in kinds):
                    self.fail("%s: ChildObjects not in the order Resource, Attribute, Dimension, Form" % rel)
                for child in children:
                    ckind = child.tag[len(MD):]
                    if ckind in ("Resource", "Attribute", "Dimension"):
                        self.order(rel, ckind, child.find(MD + "Properties"))
                    elif ckind == "Form":
                        self.form(kind, name, child.text)

    # 8 --------------------------------------------------------------------------
    def references(self, listed):
        objects = {"%s.%s" % (k, n) for k, n in listed}
        config = self.parse("Configuration.xml").find(MD + "Configuration")
        language = config.find(MD + "Properties").findtext(MD + "DefaultLanguage")
        if language not in objects:
            self.fail("Configuration.xml: DefaultLanguage %s is not an object of the dump" % language)
        for kind, name in listed:
            obj = self.object_of(kind, name)
            if obj is None:
                continue
            props = obj.find(MD + "Properties")
            default_form = props.findtext(MD + "DefaultForm")
            if default_form:
                forms = [f.text for f in obj.find(MD + "ChildObjects").findall(MD + "Form")]
                if default_form not in ["%s.%s.Form.%s" % (kind, name, f) for f in forms]:
                    self.fail("%s.%s: DefaultForm %s is not its form" % (kind, name, default_form))
            if kind == "ScheduledJob":
                self.job_method(props.findtext(MD + "MethodName"), objects)
            if kind == "Role":
                rights = self.parse("Roles/%s/Ext/Rights.xml" % name)
                if rights is None:
                    continue
                for block in rights.findall(RI + "object"):
                    target = block.findtext(RI + "name")
                    if target not in objects:
                        self.fail("Roles/%s: rights for %s, which the dump does not have" % (name, target))

    def job_method(self, method, objects):
        parts = (method or "").split(".")
        if len(parts) != 3 or "%s.%s" % tuple(parts[:2]) not in objects:
            self.fail("ScheduledJob: MethodName %r names no common module of the dump" % method)
            return
        module = self.object_of("CommonModule", parts[1]).find(MD + "Properties")
        if module.findtext(MD + "Server") != "true":
            self.fail("ScheduledJob: %s is not a server module" % parts[1])
        code = (self.dump / "CommonModules" / parts[1] / "Ext/Module.bsl").read_text("utf-8-sig")
        if not re.search(r"^Процедура %s\(\) Экспорт" % re.escape(parts[2]), code, re.M):
            self.fail("ScheduledJob: %s is not an exported procedure without parameters" % method)

    def form(self, kind, owner, form):
        base = "%s/%s/Forms/%s" % (FOLDERS[kind], owner, form)
        meta = self.parse(base + ".xml")
        if meta is not None:
            if len(meta) != 1 or meta[0].tag != MD + "Form" or meta[0].find(MD + "InternalInfo") is not None:
                self.fail("%s.xml: not one <Form> without InternalInfo" % base)
            else:
                self.order(base + ".xml", "Form", meta[0].find(MD + "Properties"))
        content = self.parse(base + "/Ext/Form.xml")
        module_path = self.dump / base / "Ext/Form/Module.bsl"
        if content is None or not module_path.is_file():
            self.fail("%s: no Ext/Form.xml or no Ext/Form/Module.bsl" % base)
            return
        code = module_path.read_text("utf-8-sig")
        procedures = set(re.findall(r"^(?:Процедура|Функция) (\w+)\(", code, re.M))
        top = [c.tag[len(LF):] for c in content]
        known = ["Title", "AutoTitle", "AutoCommandBar", "Events", "ChildItems", "Attributes", "Commands"]
        if [t for t in top if t in known] != [t for t in known if t in top] or "AutoCommandBar" not in top:
            self.fail("%s/Ext/Form.xml: top-level elements %s out of the real order" % (base, top))
        attributes = {a.get("name"): a for a in content.iter(LF + "Attribute")}
        main = [a for a in attributes.values() if a.findtext(LF + "MainAttribute") == "true"]
        want = "cfg:DataProcessorObject." + owner
        if len(main) != 1 or main[0].find(LF + "Type").findtext(V8 + "Type") != want:
            self.fail("%s: the main attribute is not one %s" % (base, want))
        for item in content.iter():
            path = item.findtext(LF + "DataPath") if item.tag != LF + "DataPath" else None
            if path:
                head, _, column = path.partition(".")
                attribute = attributes.get(head)
                columns = [] if attribute is None else [c.get("name") for c in attribute.iter(LF + "Column")]
                if attribute is None or (column and column not in columns):
                    self.fail("%s: DataPath %s names no form attribute" % (base, path))
        ids = [i.get("id") for i in content.iter() if i.get("id") and i.tag not in (LF + "Attribute", LF + "Command", LF + "Column")]
        if len(ids) != len(set(ids)):
            self.fail("%s: item ids repeat" % base)
        commands = {c.get("name"): c.findtext(LF + "Action") for c in content.iter(LF + "Command")}
        for name, action in commands.items():
            if action not in procedures:
                self.fail("%s: command %s's action %s is not in the form module" % (base, name, action))
        for button in content.iter(LF + "CommandName"):
            if button.text.startswith("Form.Command.") and button.text[13:] not in commands:
                self.fail("%s: a button names the missing command %s" % (base, button.text))
        for event in content.iter(LF + "Event"):
            if event.text not in procedures:
                self.fail("%s: event handler %s is not in the form module" % (base, event.text))
        source = extension.FORM_MODULE
        self.same_code(base + "/Ext/Form/Module.bsl", source)

    # 9, 10 ----------------------------------------------------------------------
    def template(self):
        path = self.dump / "CommonTemplates" / extension.TEMPLATE / "Ext/Template.bin"
        if not path.is_file() or path.read_bytes() != self.zip.read_bytes():
            self.fail("%s is not %s byte for byte" % (self.rel(path) if path.exists() else path, self.zip))
        meta = self.object_of("CommonTemplate", extension.TEMPLATE)
        if meta is not None and meta.find(MD + "Properties").findtext(MD + "TemplateType") != "AddIn":
            self.fail("the common template is not of type AddIn")

    def modules(self, listed):
        for kind, name in listed:
            if kind != "CommonModule":
                continue
            sample = name[len(extension.PREFIX):]
            source = extension.SAMPLES / "ОбщиеМодули" / (sample + ".bsl")
            if not source.is_file():
                self.fail("CommonModule %s has no source %s" % (name, source))
                continue
            self.same_code("CommonModules/%s/Ext/Module.bsl" % name, source)
            props = self.object_of(kind, name).find(MD + "Properties")
            flags = extension.module_flags(source.read_text("utf-8-sig"), sample)
            for flag in extension.MODULE_FLAG_ORDER:
                if (props.findtext(MD + flag) == "true") != (flag in flags):
                    self.fail("CommonModule %s: %s differs from its source's header" % (name, flag))
        modules = [str(p) for p in sorted(self.dump.rglob("*.bsl"))]
        run = subprocess.run([self.bslfmt, "--check", "--"] + modules, capture_output=True, text=True)
        if run.returncode != 0:
            self.fail("bslfmt --check: %s%s" % (run.stdout, run.stderr))

    def same_code(self, rel, source):
        path = self.dump / rel
        if not path.is_file():
            self.fail("%s is missing" % rel)
            return
        key = "m.bsl"
        want = extension.formatted(
            {key: extension.bsl_bytes(extension.prefixed(extension.read_bsl(source)))}, self.bslfmt
        )[key]
        if path.read_bytes() != want:
            self.fail("%s is not %s with our names prefixed" % (rel, source.relative_to(ROOT)))

    def run(self):
        self.files()
        listed = self.configuration()
        self.uuids()
        self.dump_info(listed)
        self.objects(listed)
        self.references(listed)
        self.template()
        self.modules(listed)
        return self.errors


def self_test(dump, package_zip, bslfmt):
    """Each break of a copy of the dump must be reported."""

    def edit(rel, old, new, count=1):
        def apply(root):
            path = root / rel
            data = path.read_bytes()
            assert data.count(old) >= 1, (rel, old)
            path.write_bytes(data.replace(old, new, count))

        return apply

    def remove(rel):
        return lambda root: (root / rel).unlink()

    register = "InformationRegisters/%s.xml" % extension.REGISTER
    module = "CommonModules/%sВебхуки/Ext/Module.bsl" % extension.PREFIX
    form = "DataProcessors/%s/Forms/Форма/Ext/Form.xml" % extension.PROCESSOR
    breaks = {
        "a byte of Template.bin": edit(
            "CommonTemplates/%s/Ext/Template.bin" % extension.TEMPLATE, b"PK", b"PX"
        ),
        "an object file removed": remove("Roles/%s.xml" % extension.ROLE_WRITE),
        "an unlisted object file": lambda root: shutil.copy(
            root / "Languages/Русский.xml", root / "Languages/English.xml"
        ),
        "a property missing": edit(register, b"\r\n\t\t\t<EditType>InDialog</EditType>", b""),
        "two properties swapped": edit(
            register,
            b"<UseStandardCommands>true</UseStandardCommands>\r\n\t\t\t<EditType>InDialog</EditType>",
            b"<EditType>InDialog</EditType>\r\n\t\t\t<UseStandardCommands>true</UseStandardCommands>",
        ),
        "a uuid repeated": lambda root: (root / register).write_bytes(
            re.sub(
                rb'(<Dimension uuid=")[^"]+',
                lambda m: m.group(1) + re.search(rb'<Resource uuid="([^"]+)', (root / register).read_bytes()).group(1),
                (root / register).read_bytes(),
            )
        ),
        "a ConfigDumpInfo entry removed": lambda root: (root / "ConfigDumpInfo.xml").write_bytes(
            re.sub(rb"\r\n\t\t<Metadata name=\"Role\.[^\r]*", b"", (root / "ConfigDumpInfo.xml").read_bytes(), count=1)
        ),
        "a generated type removed": lambda root: (root / register).write_bytes(
            re.sub(
                rb"\r\n\t\t\t<xr:GeneratedType name=\"InformationRegisterList[^>]*>.*?</xr:GeneratedType>",
                b"",
                (root / register).read_bytes(),
                flags=re.S,
            )
        ),
        "a module line changed": edit(module, "Экспорт".encode(), "Экспорт ".encode()),
        "LF line ends": lambda root: (root / "Configuration.xml").write_bytes(
            (root / "Configuration.xml").read_bytes().replace(b"\r\n", b"\n")
        ),
        "a wrong format version": edit("Languages/Русский.xml", b'version="2.17"', b'version="2.18"'),
        "a form command without its procedure": edit(form, "<Action>Обновить</Action>".encode(), "<Action>Нет</Action>".encode()),
        "a data path to no attribute": edit(form, "<DataPath>Ожидают</DataPath>".encode(), "<DataPath>Нет</DataPath>".encode()),
        "a module flag changed": edit(
            "CommonModules/%sВебхуки.xml" % extension.PREFIX, b"<Server>true</Server>", b"<Server>false</Server>"
        ),
        "a job method that does not exist": edit(
            "ScheduledJobs/%s.xml" % extension.JOB, "ОтправкаИсходящихВебхуков</MethodName>".encode(), "Нет</MethodName>".encode()
        ),
    }
    failures = []
    for label, apply in breaks.items():
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "dump"
            shutil.copytree(dump, copy)
            apply(copy)
            errors = Check(copy, package_zip, bslfmt).run()
            print("  self-test: %-40s %s" % (label, ("caught: " + errors[0][:90]) if errors else "NOT CAUGHT"))
            if not errors:
                failures.append(label)
    return failures


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    dump, package_zip, bslfmt = args
    errors = Check(dump, package_zip, bslfmt).run()
    for error in errors:
        print("extension check: " + error)
    if errors:
        sys.exit("extension check: %d problems in %s" % (len(errors), dump))
    files = sum(1 for p in Path(dump).rglob("*") if p.is_file())
    print("extension check: %s passes (%d files, Template.bin = %s)" % (dump, files, package_zip))
    if "--self-test" in argv:
        failures = self_test(dump, package_zip, bslfmt)
        if failures:
            sys.exit("extension check: the self-test's breaks not caught: %s" % ", ".join(failures))
        print("extension check: every break of the self-test was caught")


if __name__ == "__main__":
    main(sys.argv)
