#!/usr/bin/python3
"""atspi-driver.py: reads and operates an application's windows through AT-SPI, for tests.

Runs as the user of the desktop session (GTK's AT-SPI bridge serves only its own user on its
direct connections) and takes one JSON command per line on stdin, answering each with one
JSON line: {"ok": true, ...} or {"ok": false, "error": "..."}. Commands:

  {"cmd": "window", "app": A, "title": T}      the showing window: extents, description,
                                               labels, buttons, notifications shown...
  {"cmd": "windows", "app": A}                 the app's top-level windows: name, showing
  {"cmd": "click", "app": A, "title": T, "button": NAME}
  {"cmd": "select", "app": A, "title": T, "combo": LABEL, "item": TEXT}
  {"cmd": "expand", "app": A, "title": T, "name": NAME}   clicks a toggle (an expander)
  {"cmd": "tab", "app": A, "title": T, "name": NAME}      shows a notebook page
  {"cmd": "select_row", "app": A, "title": T, "cell": TEXT}  selects a table row
  {"cmd": "type", "app": A, "title": T, "text": TEXT}     fills the first text field
  {"cmd": "fill", "app": A, "title": T, "label": L, "text": TEXT}  fills the text field
                                               labelled L, or with L null the focused one
  {"cmd": "cell_extents", "app": A, "title": T, "cell": TEXT}  a cell's place on the screen
  {"cmd": "menu_item", "app": A, "name": NAME}           activates an item of a shown menu
  {"cmd": "check", "app": A, "title": T, "name": LABEL}   clicks a check box
  {"cmd": "set_value", "app": A, "title": T, "label": L, "value": N}  sets a spin button
  {"cmd": "switch", "app": A, "title": T, "name": NAME}   clicks a stack switcher's button
  {"cmd": "sort", "app": A, "title": T, "column": NAME}   clicks a showing table's column header
  {"cmd": "activate_row", "app": A, "title": T, "cell": TEXT}  activates (as a double click
                                               does) the first row with a cell TEXT
"""
import json
import sys

import gi

gi.require_version('Atspi', '2.0')
from gi.repository import Atspi  # noqa: E402


class DriverError(Exception):
    pass


def walk(acc):
    yield acc
    for i in range(max(acc.get_child_count(), 0)):
        child = acc.get_child_at_index(i)
        if child is not None:
            yield from walk(child)


def find_app(name):
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        if app is not None and app.get_name() == name:
            return app
    raise DriverError('%s is not on the AT-SPI bus' % name)


def has_state(acc, state):
    return acc.get_state_set().contains(state)


def top_windows(app):
    wins = (app.get_child_at_index(i) for i in range(app.get_child_count()))
    return [w for w in wins if w is not None]


def find_window(app_name, title):
    for win in top_windows(find_app(app_name)):
        if win.get_name() == title and has_state(win, Atspi.StateType.SHOWING):
            return win
    raise DriverError('no showing window %r' % title)


def of_role(win, role):
    return [a for a in walk(win) if a.get_role() == role]


def combo_menu_items(combo):
    for i in range(combo.get_child_count()):
        menu = combo.get_child_at_index(i)
        if menu is not None and menu.get_role() == Atspi.Role.MENU:
            return [menu.get_child_at_index(j).get_name() for j in range(menu.get_child_count())]
    return []


def labelled_by(acc):
    """The text of the label that names @acc (a mnemonic label), or None."""
    for relation in acc.get_relation_set():
        if relation.get_relation_type() == Atspi.RelationType.LABELLED_BY:
            for i in range(relation.get_n_targets()):
                return relation.get_target(i).get_name()
    return None


def find_combo(win, label):
    for combo in of_role(win, Atspi.Role.COMBO_BOX):
        if labelled_by(combo) == label:
            return combo
    raise DriverError('no combo box labelled %r' % label)


def describe(win):
    showing = Atspi.StateType.SHOWING
    sensitive = Atspi.StateType.SENSITIVE
    extents = win.get_component_iface().get_extents(Atspi.CoordType.SCREEN)
    return {
        'title': win.get_name(),
        'description': win.get_description(),
        'announced': announced(win),
        'extents': [extents.x, extents.y, extents.width, extents.height],
        'labels': [a.get_name() for a in of_role(win, Atspi.Role.LABEL) if has_state(a, showing)],
        'buttons': {a.get_name(): {'sensitive': has_state(a, sensitive),
                                   'extents': extents_of(a),
                                   # the window's default button: what Enter presses
                                   'default': has_state(a, Atspi.StateType.IS_DEFAULT)}
                    for a in of_role(win, Atspi.Role.PUSH_BUTTON) if has_state(a, showing)},
        # keyed by the label that names them
        'combos': {labelled_by(a): {'name': a.get_name(), 'items': combo_menu_items(a),
                                    'sensitive': has_state(a, sensitive)}
                   for a in of_role(win, Atspi.Role.COMBO_BOX)},
        'toggles': {a.get_name(): {'expanded': has_state(a, Atspi.StateType.EXPANDED)}
                    for a in of_role(win, Atspi.Role.TOGGLE_BUTTON) if has_state(a, showing)},
        # the rows of the showing tables, as lists of cell texts
        'tables': [table_rows(t) for t in of_role(win, Atspi.Role.TREE_TABLE)
                   + of_role(win, Atspi.Role.TABLE) if has_state(t, showing)],
        'tabs': {a.get_name(): has_state(a, Atspi.StateType.SELECTED)
                 for a in of_role(win, Atspi.Role.PAGE_TAB)},
        # a stack switcher's buttons (radio buttons): which page is shown
        'pages': {a.get_name(): has_state(a, Atspi.StateType.CHECKED)
                  for a in of_role(win, Atspi.Role.RADIO_BUTTON) if has_state(a, showing)},
        'checks': {a.get_name(): {'checked': has_state(a, Atspi.StateType.CHECKED),
                                  'sensitive': has_state(a, sensitive)}
                   for a in of_role(win, Atspi.Role.CHECK_BOX) if has_state(a, showing)},
        # the showing editable text fields, keyed by the label that names them (or null)
        'entries': {labelled_by(a): {'text': text_of(a), 'sensitive': has_state(a, sensitive),
                                     'focused': has_state(a, Atspi.StateType.FOCUSED)}
                    for a in editable_fields(win)},
        # charts (a drawing has no text of its own): name -> description, where it is
        'charts': {a.get_name(): {'description': a.get_description(), 'extents': extents_of(a)}
                   for a in of_role(win, Atspi.Role.CHART) if has_state(a, showing)},
        'spins': {labelled_by(a): {'value': a.get_value_iface().get_current_value(),
                                   'sensitive': has_state(a, sensitive)}
                  for a in of_role(win, Atspi.Role.SPIN_BUTTON)},
    }


def extents_of(acc):
    e = acc.get_component_iface().get_extents(Atspi.CoordType.SCREEN)
    return [e.x, e.y, e.width, e.height]


def editable_fields(win):
    return [a for a in of_role(win, Atspi.Role.ENTRY) + of_role(win, Atspi.Role.TEXT)
            if has_state(a, Atspi.StateType.EDITABLE) and has_state(a, Atspi.StateType.SHOWING)
            and a.get_editable_text_iface() is not None]


def text_of(acc):
    text = acc.get_text_iface()
    return text.get_text(0, text.get_character_count()) if text is not None else None


def table_rows(table):
    iface = table.get_table_iface()
    if iface is None:
        return []
    rows = []
    for r in range(iface.get_n_rows()):
        row = []
        for c in range(iface.get_n_columns()):
            cell = iface.get_accessible_at(r, c)
            row.append(cell.get_name() if cell is not None else '')
        rows.append(row)
    return rows


def announced(win):
    """The texts of the showing notifications and alerts in @win (what a screen reader reads
    out when they show): each one's showing labels, joined."""
    showing = Atspi.StateType.SHOWING
    return [' '.join(a.get_name() for a in of_role(n, Atspi.Role.LABEL) if has_state(a, showing))
            for n in of_role(win, Atspi.Role.NOTIFICATION) + of_role(win, Atspi.Role.ALERT)
            if has_state(n, showing)]


def do_first_action(acc):
    """Clicks, toggles or activates @acc. Errors from here on are not "transient": the action
    may have happened, so the command must not be sent again."""
    name = acc.get_name()
    action = acc.get_action_iface()
    try:
        done = action is not None and action.do_action(0)
    except gi.repository.GLib.Error as e:
        raise DriverError('the action of %r failed: %s' % (name, e.message))
    if not done:
        raise DriverError('the action of %r did nothing' % name)


def handle(cmd):
    kind = cmd['cmd']
    if kind == 'menu_item':
        # a popup menu is a window of its own: look through all that show
        for top in top_windows(find_app(cmd['app'])):
            if not has_state(top, Atspi.StateType.SHOWING):
                continue
            for item in of_role(top, Atspi.Role.MENU_ITEM):
                if item.get_name() == cmd['name'] and has_state(item, Atspi.StateType.SHOWING):
                    if not has_state(item, Atspi.StateType.SENSITIVE):
                        raise DriverError('%r is insensitive' % cmd['name'])
                    do_first_action(item)
                    return {}
        raise DriverError('no showing menu item %r' % cmd['name'])
    if kind == 'windows':
        return {'windows': [{'name': w.get_name(),
                             'showing': has_state(w, Atspi.StateType.SHOWING)}
                            for w in top_windows(find_app(cmd['app']))]}
    win = find_window(cmd['app'], cmd['title'])
    if kind == 'window':
        return describe(win)
    if kind == 'click':
        for button in of_role(win, Atspi.Role.PUSH_BUTTON):
            if button.get_name() == cmd['button']:
                # an insensitive button ignores the click: say so instead
                if not has_state(button, Atspi.StateType.SENSITIVE):
                    raise DriverError('%r is insensitive' % cmd['button'])
                do_first_action(button)
                return {}
        raise DriverError('no button %r' % cmd['button'])
    if kind == 'expand':
        for toggle in of_role(win, Atspi.Role.TOGGLE_BUTTON):
            if toggle.get_name() == cmd['name']:
                do_first_action(toggle)
                return {}
        raise DriverError('no toggle %r' % cmd['name'])
    if kind == 'switch':
        for button in of_role(win, Atspi.Role.RADIO_BUTTON):
            if button.get_name() == cmd['name'] and has_state(button, Atspi.StateType.SHOWING):
                do_first_action(button)
                return {}
        raise DriverError('no page button %r' % cmd['name'])
    if kind == 'check':
        # clicks a check box, by its label
        for box in of_role(win, Atspi.Role.CHECK_BOX):
            if box.get_name() == cmd['name']:
                do_first_action(box)
                return {}
        raise DriverError('no check box %r' % cmd['name'])
    if kind == 'set_value':
        for spin in of_role(win, Atspi.Role.SPIN_BUTTON):
            if labelled_by(spin) == cmd['label']:
                if not spin.get_value_iface().set_current_value(float(cmd['value'])):
                    raise DriverError('cannot set %r' % cmd['label'])
                return {}
        raise DriverError('no spin button labelled %r' % cmd['label'])
    if kind == 'type':
        # sets the text of the first editable text field (a search entry)
        for entry in of_role(win, Atspi.Role.ENTRY) + of_role(win, Atspi.Role.TEXT):
            editable = entry.get_editable_text_iface()
            if editable is not None and has_state(entry, Atspi.StateType.EDITABLE):
                editable.set_text_contents(cmd['text'])
                return {}
        raise DriverError('no text field')
    if kind == 'fill':
        # the text of a field named by its label (a mnemonic label), or of the focused field
        for entry in editable_fields(win):
            if (labelled_by(entry) == cmd['label'] if cmd['label'] is not None
                    else has_state(entry, Atspi.StateType.FOCUSED)):
                if not has_state(entry, Atspi.StateType.SENSITIVE):
                    raise DriverError('the field %r is insensitive' % cmd['label'])
                if not entry.get_editable_text_iface().set_text_contents(cmd['text']):
                    raise DriverError('cannot set the text of %r' % cmd['label'])
                return {}
        raise DriverError('no showing text field %s' % (
            'labelled %r' % cmd['label'] if cmd['label'] is not None else 'with the focus'))
    if kind == 'cell_extents':
        # where a cell is on the screen, for a real pointer click (xdotool)
        for table in of_role(win, Atspi.Role.TREE_TABLE) + of_role(win, Atspi.Role.TABLE):
            if not has_state(table, Atspi.StateType.SHOWING):
                continue
            iface = table.get_table_iface()
            for r, row in enumerate(table_rows(table)):
                if cmd['cell'] in row:
                    cell = iface.get_accessible_at(r, row.index(cmd['cell']))
                    e = cell.get_component_iface().get_extents(Atspi.CoordType.SCREEN)
                    return {'extents': [e.x, e.y, e.width, e.height]}
        raise DriverError('no cell %r' % cmd['cell'])
    if kind == 'select_row':
        # the first row of the first showing table with a cell equal to "cell"
        for table in of_role(win, Atspi.Role.TREE_TABLE) + of_role(win, Atspi.Role.TABLE):
            if not has_state(table, Atspi.StateType.SHOWING):
                continue
            iface = table.get_table_iface()
            for r, row in enumerate(table_rows(table)):
                if cmd['cell'] in row:
                    if not iface.is_row_selected(r) and not iface.add_row_selection(r):
                        raise DriverError('cannot select row %d' % r)
                    return {}
        raise DriverError('no row with a cell %r' % cmd['cell'])
    if kind == 'sort':
        for table in of_role(win, Atspi.Role.TREE_TABLE) + of_role(win, Atspi.Role.TABLE):
            if not has_state(table, Atspi.StateType.SHOWING):
                continue
            iface = table.get_table_iface()
            for c in range(iface.get_n_columns()):
                header = iface.get_column_header(c)
                if header is not None and header.get_name() == cmd['column']:
                    do_first_action(header)
                    return {}
        raise DriverError('no column %r' % cmd['column'])
    if kind == 'activate_row':
        for table in of_role(win, Atspi.Role.TREE_TABLE) + of_role(win, Atspi.Role.TABLE):
            if not has_state(table, Atspi.StateType.SHOWING):
                continue
            iface = table.get_table_iface()
            for r, row in enumerate(table_rows(table)):
                if cmd['cell'] in row:
                    cell = iface.get_accessible_at(r, row.index(cmd['cell']))
                    action = cell.get_action_iface()
                    names = [action.get_action_name(i) for i in range(action.get_n_actions())]
                    if 'activate' not in names:
                        raise DriverError('the cell %r has no activate action: %r'
                                          % (cmd['cell'], names))
                    if not action.do_action(names.index('activate')):
                        raise DriverError('activating %r did nothing' % cmd['cell'])
                    return {}
        raise DriverError('no row with a cell %r' % cmd['cell'])
    if kind == 'tab':
        for tab in of_role(win, Atspi.Role.PAGE_TAB):
            if tab.get_name() == cmd['name']:
                parent = tab.get_parent()
                selection = parent.get_selection_iface()
                if selection is None or not selection.select_child(tab.get_index_in_parent()):
                    raise DriverError('cannot select the tab %r' % cmd['name'])
                return {}
        raise DriverError('no tab %r' % cmd['name'])
    if kind == 'select':
        combo = find_combo(win, cmd['combo'])
        items = combo_menu_items(combo)
        if cmd['item'] not in items:
            raise DriverError('%r is not one of %r' % (cmd['item'], items))
        selection = combo.get_selection_iface()
        if selection is None or not selection.select_child(items.index(cmd['item'])):
            raise DriverError('cannot select %r' % cmd['item'])
        return {}
    raise DriverError('unknown command %r' % kind)


def main():
    print(json.dumps({'ok': True, 'ready': True}), flush=True)
    for line in sys.stdin:
        try:
            answer = handle(json.loads(line))
            answer['ok'] = True
        except (DriverError, KeyError) as e:
            answer = {'ok': False, 'error': str(e)}
        except gi.repository.GLib.Error as e:
            # the tree changed while it was read (an object went away): nothing was done
            # yet (see do_first_action), so the command may be sent again
            answer = {'ok': False, 'error': 'AT-SPI: %s' % e.message, 'transient': True}
        except (AttributeError, TypeError, IndexError) as e:
            # the tree changed while it was read (a row came or went): ask again
            answer = {'ok': False, 'error': 'changed while read: %r' % e, 'transient': True}
        print(json.dumps(answer), flush=True)


if __name__ == '__main__':
    main()
